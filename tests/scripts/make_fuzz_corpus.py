#!/usr/bin/python3
"""Regenerates the seed corpus tests/fuzz/corpus/ (committed; a few KB per file): small fabio-written fixtures,
the 64-bit escape file, small files from our writer, and edge cases made by editing them.

Usage: /usr/bin/python3 tests/scripts/make_fuzz_corpus.py XRDBENCH_EXE FIXTURES_DIR OUT_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy

exe, fixtures, out = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)


def put(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


fw = os.path.join(fixtures, "cbf", "fabio_written")
for n in ("all_zero", "boundary_deltas", "deltas_16bit", "deltas_32bit", "one_row", "ramp_8bit", "single_pixel"):
    shutil.copy(os.path.join(fw, n + ".cbf"), os.path.join(out, "fabio_" + n + ".cbf"))
shutil.copy(os.path.join(fixtures, "cbf", "hand_made", "escape64.cbf"), os.path.join(out, "escape64.cbf"))

with tempfile.TemporaryDirectory() as tmp:
    def ours(name, pixels, header_from=None):
        raw, cbf = os.path.join(tmp, name + ".i32le"), os.path.join(tmp, name + ".cbf")
        pixels.astype("<i4").tofile(raw)
        h, w = pixels.shape
        cmd = [exe, "cbf", "encode", "--width", str(w), "--height", str(h), raw, cbf]
        if header_from:
            cmd[3:3] = ["--header-from", header_from]
        subprocess.run(cmd, check=True)
        return open(cbf, "rb").read()

    rng = numpy.random.default_rng(7)
    mixed = rng.choice([0, 1, 5, 200, 40000, -1, -2, 2**31 - 1, -2**31], size=(6, 7)).astype(numpy.int32)
    real2m = os.path.join(fixtures, "real", "pilatus3x2m_lab6_300_00_0001p.cbf")
    with_header = ours("ours_header", mixed, real2m)
    put("ours_pilatus_header.cbf", with_header)
    plain = ours("ours_plain", rng.integers(-3, 300, size=(9, 5)).astype(numpy.int32))
    put("ours_plain.cbf", plain)
    # Without the 4095 padding bytes (header-less writers omit them): smaller, so mutations hit the header more.
    end = plain.find(b"\x0c\x1a\x04\xd5") + 4
    size = int(plain.split(b"X-Binary-Size: ")[1].split(b"\r\n")[0])
    put("ours_no_padding.cbf", plain[:end + size])
    # Header-less: binary section only.
    put("headerless.cbf", plain[plain.find(b"_array_data.data"):end + size])
    # LF line ends in the text header.
    put("lf_header.cbf", with_header[:with_header.find(b"\x0c\x1a\x04\xd5")].replace(b"\r\n", b"\n")
        + with_header[with_header.find(b"\x0c\x1a\x04\xd5"):][:4 + int(with_header.split(b"X-Binary-Size: ")[1].split(b"\r\n")[0])])
    one = open(os.path.join(fw, "deltas_16bit.cbf"), "rb").read()
    # Other element types (same stream, read as 16- and 8-bit), a cut inside an escape, a third dimension, no MD5.
    put("u16.cbf", one.replace(b"signed 32-bit integer", b"unsigned 16-bit integer"))
    put("i8.cbf", one.replace(b"signed 32-bit integer", b"signed 8-bit integer"))
    put("cut_in_escape.cbf", one[:one.find(b"\x0c\x1a\x04\xd5") + 4 + 101])
    put("third_dim.cbf", one.replace(b"X-Binary-Size-Padding", b"X-Binary-Size-Third-Dimension: 1\r\nX-Binary-Size-Padding"))
    md5 = one.find(b"Content-MD5")
    put("no_md5.cbf", one[:md5] + one[one.find(b"\n", md5) + 1:])
print("corpus:", len(os.listdir(out)), "files,", sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)),
      "bytes")
