#!/usr/bin/env bash
# On the device machine (16 cores, 1 GPU): MPI scaling of xrdbench (issue 16). Needs the bundle from
# scripts/make_bundle.sh (carried as bundle/; it brings Open MPI's runtime when the machine has none).
#   bash scripts/device_mpi.sh cpu   # one process with every thread (fused, pipeline) against 1, 2, 4, 8, 16 ranks of
#                                    # one thread each (fused, sequential), ranks bound one per core
#   bash scripts/device_mpi.sh mix   # threads x ranks filling the machine: fused on R ranks of T = CORES/R threads,
#                                    # R x T = 1x16, 2x8, 4x4, 8x2, 16x1, each rank bound to its T cores
#   bash scripts/device_mpi.sh gpu   # opencl-batched (4 readers each) on 1, 2, 3, 4 ranks sharing the one GPU
#   bash scripts/device_mpi.sh realtime  # `mpirun -n R xrdbench realtime` (frames fanned out round-robin): fused,
#                                    # R = 1, 2, 4 ranks of CORES/R threads, pilatus3-2m at its 250 Hz, then --find-max
#   bash scripts/device_mpi.sh all   # every part (does not fit one 10-minute device command: run them one by one)
# Each part is meant for one device command: every case runs under `timeout` (XRD_CASE_S, 240 s) and a part starts
# no new case after XRD_PART_S (270 s), so a part ends within about 5 minutes even when a case hangs.
# Each part keeps its runs in $WORK (default /tmp/xrd-mpi, kept while the machine stays warm) and writes, under
# $OUT, every run so far merged into results.json (one row per run, ids <row>-t<threads per rank>[-mpi<ranks>]),
# the realtime runs merged into realtime/results.json, the per-run results, and log.txt. Here afterwards:
# xrdbench report OUT/results.json --out OUT/report (scaling.png); xrdbench report OUT/realtime/results.json.
# Environment: XRD_FRAMES (1202), XRD_REPEATS (3), XRD_DATA, XRD_RANKS ("1 2 4 8 16"), XRD_MIX_RANKS ("1 2 4 8 16",
# those dividing the CPUs), XRD_GPU_RANKS ("1 2 3 4"), XRD_RT_RANKS ("1 2 4"), XRD_RT_DETECTOR (pilatus3-2m),
# XRD_RT_DURATION (10 s at the detector's rate), XRD_RT_TRIAL_S (2), XRD_CASE_S, XRD_PART_S, XRD_BIN (the
# xrdbench to run; default bundle/bin/xrdbench: a dry run on a build machine sets it and needs no bundle).
set -uo pipefail
cd "$(dirname "$0")/.."
PART=${1:-all}
case "$PART" in cpu | mix | gpu | realtime | all) ;;
  *) echo "device_mpi: unknown part '$PART' (cpu, mix, gpu, realtime, all)" >&2; exit 2 ;;
esac
OUT=${OUT:-out/device-mpi}
WORK=${WORK:-/tmp/xrd-mpi}
FRAMES=${XRD_FRAMES:-1202}
REPEATS=${XRD_REPEATS:-3}
DATA=${XRD_DATA:-/tmp/xrd-synth-$FRAMES}
RANKS=${XRD_RANKS:-"1 2 4 8 16"}
GPU_RANKS=${XRD_GPU_RANKS:-"1 2 3 4"}
MIX_RANKS=${XRD_MIX_RANKS:-"1 2 4 8 16"}
RT_RANKS=${XRD_RT_RANKS:-"1 2 4"}
RT_DETECTOR=${XRD_RT_DETECTOR:-pilatus3-2m}
RT_DURATION=${XRD_RT_DURATION:-10}
RT_TRIAL_S=${XRD_RT_TRIAL_S:-2}
CASE_S=${XRD_CASE_S:-240}
PART_S=${XRD_PART_S:-270}
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
XRD_BUNDLE_OPTIONAL=1 source scripts/device_env.sh device_mpi
[ -x "$B" ] || { echo "device_mpi: no xrdbench at $B (carry the bundle, or set XRD_BIN)" >&2; exit 2; }
# The device tool runs as root; Open MPI refuses that unless told (here only).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One host: shared memory between ranks; no network transport is probed.
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_mtl=^ofi,psm,psm2 OMPI_MCA_osc=^ucx

# case NAME RANKS MPIRUN-OPTIONS -- XRDBENCH-RUN-OPTIONS: one `xrdbench run` (under mpirun when RANKS > 0), or with
# CMD=realtime one `xrdbench realtime`. Skipped once the part has run XRD_PART_S seconds; killed after XRD_CASE_S
# (mpirun, sent SIGTERM by timeout, ends every rank).
PART_T0=$SECONDS
case_() {
  local name=$1 ranks=$2
  shift 2
  local mpi=()
  while [ "$1" != "--" ]; do mpi+=("$1"); shift; done
  shift
  local out="$WORK/runs/$name"
  if [ $((SECONDS - PART_T0)) -ge "$PART_S" ]; then
    echo "== $name: SKIPPED (the part has run $((SECONDS - PART_T0)) s of its $PART_S s)"
    return
  fi
  rm -rf "$out"
  local t0=$SECONDS rc cmd=(run --repeats "$REPEATS" --warmup 1 --quiet)
  [ "${CMD:-run}" = realtime ] && cmd=(realtime)  # not quiet: its verdict and max rate, one line each
  echo "== $name: ${ranks:-no} mpirun ranks ${mpi[*]}"
  if [ "$ranks" = 0 ]; then
    timeout -k 10 "$CASE_S" "$B" "${cmd[@]}" --dataset "$DATA" --out "$out" "$@"
  else
    timeout -k 10 "$CASE_S" mpirun -n "$ranks" --report-bindings "${mpi[@]}" "$B" "${cmd[@]}" --dataset "$DATA" \
      --out "$out" "$@"
  fi
  rc=$?
  [ "$rc" = 124 ] && echo "   TIMED OUT after $CASE_S s"
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
    # R ranks x T threads = every CPU: each rank bound to its own T consecutive cores (Open MPI: --map-by slot:PE=T
    # --bind-to core; PE=T also makes each rank take T slots), 1 rank under mpirun too (the same binding path).
    for r in $MIX_RANKS; do
      [ "$r" -le "$CORES" ] && [ $((CORES % r)) = 0 ] || continue
      t=$((CORES / r))
      case_ "fused-mix-r${r}xt$t" "$r" "${HW[@]}" --map-by "slot:PE=$t" --bind-to "${BIND[1]}" -- --strategy fused \
        --threads "$t" --id "fused-cpu-MEM-t$t" --device cpu
    done
  fi
  if [ "$PART" = realtime ] || [ "$PART" = all ]; then
    # The detector's stream fanned out round-robin over R ranks of T = CORES/R threads (bound as in mix): at the
    # detector's nominal rate for XRD_RT_DURATION s, then --find-max (a batch run and ~2 s trials, each one a
    # collective of all ranks). Each rank's buffer: the default 16 GB of frames.
    for r in $RT_RANKS; do
      [ "$r" -le "$CORES" ] && [ $((CORES % r)) = 0 ] || continue
      t=$((CORES / r))
      CMD=realtime case_ "rt-fused-r${r}xt$t" "$r" "${HW[@]}" --map-by "slot:PE=$t" --bind-to "${BIND[1]}" -- \
        --strategy fused --threads "$t" --detector "$RT_DETECTOR" --duration "$RT_DURATION" --find-max \
        --trial-s "$RT_TRIAL_S" --device cpu --mpi-timeout 120
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

# Every run so far in one results file: the first run's header, every run's row (ids are unique by construction);
# the realtime runs in realtime/results.json (their "realtime" blocks' runs, each labelled with its case).
cp "$WORK/log.txt" "$OUT/log.txt"
mkdir -p "$OUT/runs"
for d in "$WORK"/runs/*/; do
  [ -f "$d/results.json" ] && mkdir -p "$OUT/runs/$(basename "$d")" && cp "$d/results.json" "$OUT/runs/$(basename "$d")/"
done
if command -v python3 >/dev/null; then
  python3 - "$OUT/results.json" "$OUT"/runs/*/results.json <<'EOF'
import json, sys
import os
out, files = sys.argv[1], sorted(sys.argv[2:])
merged, seen, rt = None, set(), None
for f in files:
    with open(f) as fh:
        doc = json.load(fh)
    if doc.get("realtime"):
        if rt is None:
            rt = dict(doc, command="scripts/device_mpi.sh realtime (one xrdbench realtime per case)")
            rt["realtime"] = dict(doc["realtime"], runs=[], matrix=[])
        for run in doc["realtime"]["runs"]:
            run["case"] = f.split("/")[-2]
            rt["realtime"]["runs"].append(run)
        continue
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
if rt:
    path = os.path.join(os.path.dirname(out), "realtime", "results.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(rt, fh, indent=1)
    print("device_mpi: %d realtime runs -> %s" % (len(rt["realtime"]["runs"]), path))
EOF
else
  echo "device_mpi: no python3 here: merge $OUT/runs/*/results.json afterwards" >&2
fi
ls -l "$OUT"
