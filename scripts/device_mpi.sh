#!/usr/bin/env bash
# On the device machine (16 cores, 1 GPU): MPI scaling of xrdbench (issue 16). Needs the bundle from
# scripts/make_bundle.sh (carried as bundle/; it brings Open MPI's runtime when the machine has none).
#   bash scripts/device_mpi.sh cpu   # one process with every thread (fused, pipeline) against 1, 2, 4, 8, 16 ranks of
#                                    # one thread each (fused, sequential), ranks bound one per core
#   bash scripts/device_mpi.sh mix   # threads x ranks: fused with T threads per rank, 1 rank and 16/T ranks, T = 2, 4, 8
#   bash scripts/device_mpi.sh gpu   # opencl-batched (4 readers each) on 1, 2, 3, 4 ranks sharing the one GPU
#   bash scripts/device_mpi.sh all   # the three (may not fit one 10-minute device command: run the parts one by one)
# Each part keeps its runs in $WORK (default /tmp/xrd-mpi, kept while the machine stays warm) and writes, under
# $OUT, every run so far merged into results.json (one row per run, ids <row>-t<threads per rank>[-mpi<ranks>]),
# the per-run results, and log.txt. Here afterwards: xrdbench report OUT/results.json --out OUT/report (scaling.png).
# Environment: XRD_FRAMES (1202), XRD_REPEATS (3), XRD_DATA, XRD_RANKS ("1 2 4 8 16"), XRD_GPU_RANKS ("1 2 3 4").
set -uo pipefail
cd "$(dirname "$0")/.."
PART=${1:-all}
case "$PART" in cpu | mix | gpu | all) ;; *) echo "device_mpi: unknown part '$PART' (cpu, mix, gpu, all)" >&2; exit 2 ;; esac
OUT=${OUT:-out/device-mpi}
WORK=${WORK:-/tmp/xrd-mpi}
FRAMES=${XRD_FRAMES:-1202}
REPEATS=${XRD_REPEATS:-3}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
RANKS=${XRD_RANKS:-"1 2 4 8 16"}
GPU_RANKS=${XRD_GPU_RANKS:-"1 2 3 4"}
CORES=$(nproc)
# Ranks bound one per core (Open MPI: --bind-to core --map-by core); when the CPUs are hardware threads of fewer
# cores, one per hardware thread (Open MPI would otherwise count only the cores as slots).
PHYS=$(lscpu -p=core 2>/dev/null | grep -v '^#' | sort -u | wc -l)
BIND=(--bind-to core --map-by core)
HW=()
if [ "${PHYS:-0}" -gt 0 ] && [ "$PHYS" -lt "$CORES" ]; then
  BIND=(--use-hwthread-cpus --bind-to hwthread --map-by hwthread)
  HW=(--use-hwthread-cpus)
fi
mkdir -p "$OUT" "$WORK/runs"
source bundle/env.sh
# The NVIDIA OpenCL driver is installed but not registered with the ICD loader on that machine.
if [ -w /etc ] && [ ! -f /etc/OpenCL/vendors/nvidia.icd ]; then
  mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
fi
B=$PWD/bundle/bin/xrdbench
export XRD_COMMIT=${XRD_COMMIT:-$(cat bundle/COMMIT 2>/dev/null || echo unknown)}
# The device tool runs as root; Open MPI refuses that unless told (here only).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One host: shared memory between ranks; no network transport is probed.
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_mtl=^ofi,psm,psm2 OMPI_MCA_osc=^ucx

# case NAME RANKS MPIRUN-OPTIONS -- XRDBENCH-RUN-OPTIONS: one `xrdbench run` (under mpirun when RANKS > 0).
case_() {
  local name=$1 ranks=$2
  shift 2
  local mpi=()
  while [ "$1" != "--" ]; do mpi+=("$1"); shift; done
  shift
  local out="$WORK/runs/$name"
  rm -rf "$out"
  local t0=$SECONDS rc
  echo "== $name: ${ranks:-no} mpirun ranks ${mpi[*]}"
  if [ "$ranks" = 0 ]; then
    "$B" run --dataset "$DATA" --repeats "$REPEATS" --warmup 1 --out "$out" --quiet "$@"
  else
    mpirun -n "$ranks" --report-bindings "${mpi[@]}" "$B" run --dataset "$DATA" --repeats "$REPEATS" --warmup 1 \
      --out "$out" --quiet "$@"
  fi
  rc=$?
  echo "   exit status $rc, $((SECONDS - t0)) s"
}

{
  echo "== $(date -u +%FT%TZ) part $PART on $(hostname): $CORES CPUs ($PHYS cores), binding ${BIND[*]}," \
    "$(command -v mpirun) ($(mpirun --version | head -n 1))"
  $B devices | head -n 8
  echo "== dataset: $FRAMES frames -> $DATA"
  [ -f "$DATA/manifest.json" ] || $B dataset synth --out "$DATA" --frames "$FRAMES" --threads "$CORES" >/dev/null
  if [ "$PART" = cpu ] || [ "$PART" = all ]; then
    # One process with every core (the comparison), then ranks of one thread bound one per core.
    for s in fused pipeline; do
      case_ "$s-t$CORES" 0 -- --strategy "$s" --threads "$CORES" --id "$s-cpu-MEM-t$CORES" --device cpu
    done
    for s in fused sequential; do
      for r in $RANKS; do
        case_ "$s-t1-r$r" "$r" "${BIND[@]}" -- --strategy "$s" --threads 1 --id "$s-cpu-MEM-t1" \
          --device cpu
      done
    done
  fi
  if [ "$PART" = mix ] || [ "$PART" = all ]; then
    # T threads per rank, each rank bound to T cores (PE=T): 1 rank, and as many ranks as fill the machine.
    for t in 2 4 8; do
      [ "$t" -le "$CORES" ] || continue
      for r in $(printf '%s\n' 1 $((CORES / t)) | sort -nu); do
        case_ "fused-t$t-r$r" "$r" "${HW[@]}" --map-by "slot:PE=$t" --bind-to "${BIND[1]}" -- --strategy fused --threads "$t" \
          --id "fused-cpu-MEM-t$t" --device cpu
      done
    done
  fi
  if [ "$PART" = gpu ] || [ "$PART" = all ]; then
    # Ranks sharing the one GPU (opencl:local-rank: rank i -> GPU i mod 1), 4 readers each, not bound (readers and
    # the batch thread of a rank need several cores).
    for r in $GPU_RANKS; do
      case_ "opencl-batched-r$r" "$r" --bind-to none --oversubscribe -- --strategy opencl-batched --readers 4 \
        --device opencl:local-rank --id "opencl-batched-4-gpu-MEM-t4"
    done
  fi
  echo "== $(date -u +%FT%TZ) done"
} 2>&1 | tee -a "$WORK/log.txt"

# Every run so far in one results file: the first run's header, every run's row (ids are unique by construction).
cp "$WORK/log.txt" "$OUT/log.txt"
mkdir -p "$OUT/runs"
for d in "$WORK"/runs/*/; do
  [ -f "$d/results.json" ] && mkdir -p "$OUT/runs/$(basename "$d")" && cp "$d/results.json" "$OUT/runs/$(basename "$d")/"
done
if command -v python3 >/dev/null; then
  python3 - "$OUT/results.json" "$OUT"/runs/*/results.json <<'EOF'
import json, sys
out, files = sys.argv[1], sorted(sys.argv[2:])
merged, seen = None, set()
for f in files:
    with open(f) as fh:
        doc = json.load(fh)
    if merged is None:
        merged = dict(doc, rows=[], command="scripts/device_mpi.sh (one xrdbench run per row; see each row's label)")
    for r in doc["rows"]:
        if r["id"] in seen:
            r["id"] += "-" + f.split("/")[-2]
        seen.add(r["id"])
        merged["rows"].append(r)
if merged:
    with open(out, "w") as fh:
        json.dump(merged, fh, indent=1)
    print("device_mpi: %d rows from %d runs -> %s" % (len(merged["rows"]), len(files), out))
EOF
else
  echo "device_mpi: no python3 here: merge $OUT/runs/*/results.json afterwards" >&2
fi
ls -l "$OUT"
