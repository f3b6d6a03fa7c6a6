#!/usr/bin/env bash
# Writes the escape-dense test frame: the real Pilatus3 2M LaB6 frame (shared/fixtures/real/
# pilatus3x2m_lab6_300_00_0001p.cbf, 60k 16-bit escapes) with its counts times 3.65, rounded (masked pixels, < 0,
# kept), written by `xrdbench cbf encode` with the real frame's header: 195k 16-bit and 2.6k 32-bit escapes, as many
# 16-bit escapes as a LaB6 frame at 139 mm (rings close to the beam), which the shared fixtures lack. fabio reads
# the file back and must find exactly the scaled pixels; the escape counts are printed. bench_codec.cpp builds
# the same stream in memory (BM_decode_*/lab6-dense).
#   scripts/make_dense_frame.sh XRDBENCH OUT.cbf
# XRD_SHARED_DIR (default ../shared beside the repository) locates fixtures/real/.
set -euo pipefail
if [ $# -ne 2 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
xrdbench=$1
out=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${XRD_SHARED_DIR:-$repo/../shared}
real=$shared/fixtures/real/pilatus3x2m_lab6_300_00_0001p.cbf
[ -x "$xrdbench" ] || { echo "error: $xrdbench not found or not executable" >&2; exit 1; }
[ -f "$real" ] || { echo "error: $real not found (set XRD_SHARED_DIR to the shared/ folder)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$real" "$tmp/dense.i32le" <<'PY'
import sys
import fabio
import numpy as np
d = fabio.open(sys.argv[1]).data.astype(np.int64)
# round(3.65 * v) for counts, in integers: the same formula as bench_codec.cpp's dense_frame().
scaled = np.where(d >= 0, (d * 73 + 10) // 20, d).astype("<i4")
scaled.tofile(sys.argv[2])
PY
"$xrdbench" cbf encode --width 1475 --height 1679 --header-from "$real" "$tmp/dense.i32le" "$out"

/usr/bin/python3 - "$out" "$tmp/dense.i32le" <<'PY'
import sys
import fabio
import numpy as np
img = fabio.open(sys.argv[1])
want = np.fromfile(sys.argv[2], dtype="<i4").reshape(1679, 1475)
if img.data.shape != want.shape or not np.array_equal(img.data, want):
    sys.exit(f"error: fabio reads {sys.argv[1]} differently from the pixels written")
delta = np.abs(np.diff(np.concatenate([[0], want.ravel().astype(np.int64)])))
e16 = int(((delta > 127) & (delta <= 32767)).sum())
e32 = int((delta > 32767).sum())
print(f"{sys.argv[1]}: fabio reads the written pixels back exactly; {e16} 16-bit and {e32} 32-bit escapes "
      f"in {delta.size} pixels")
PY
