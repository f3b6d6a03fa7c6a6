#!/usr/bin/python3
"""h5py + the bitshuffle HDF5 plugin (Debian's `bitshuffle`, real peers) against our NXmx files.

  bslz4_peer.py read MASTER EXPECTED.raw DTYPE FRAMES HEIGHT WIDTH
      reads every frame of MASTER (its /entry/data/data_NNNNNN links or /entry/data/data) through h5py + the plugin
      and, chunk by chunk, through bitshuffle.decompress_lz4 on the raw chunk (read_direct_chunk); both must equal
      EXPECTED.raw (FRAMES x HEIGHT x WIDTH of DTYPE). Prints "ok N frames" or the first difference; exit 1 on any.
  bslz4_peer.py write FILE.h5 EXPECTED.raw DTYPE FRAMES HEIGHT WIDTH SEED [BLOCK]
      writes /entry/data/data with bitshuffle.h5 (filter 32008, LZ4; one chunk per frame, block size BLOCK elements,
      0 = default) and the same pixels as raw bytes to EXPECTED.raw.
"""
import struct
import sys

import bitshuffle
import bitshuffle.h5
import h5py
import numpy


def frames_of(path):
    f = h5py.File(path, "r")
    g = f["/entry/data"]
    names = sorted(n for n in g if n == "data" or n.startswith("data_"))
    for n in names:
        yield g[n]


def read(master, expected, dtype, frames, height, width):
    want = numpy.fromfile(expected, dtype=dtype).reshape(frames, height, width)
    i = 0
    for ds in frames_of(master):
        assert ds.dtype == numpy.dtype(dtype), f"{ds.name}: dtype {ds.dtype}, expected {dtype}"
        assert ds.chunks == (1, height, width), f"{ds.name}: chunks {ds.chunks}"
        filters = ds.id.get_create_plist().get_nfilters()
        assert filters == 1, f"{ds.name}: {filters} filters"
        for k in range(ds.shape[0]):
            got = ds[k]
            if not numpy.array_equal(got, want[i]):
                bad = numpy.argwhere(got != want[i])[0]
                print(f"h5py: frame {i} differs at {tuple(bad)}: {got[tuple(bad)]} != {want[i][tuple(bad)]}")
                return 1
            mask, chunk = ds.id.read_direct_chunk((k, 0, 0))
            n, block = struct.unpack(">QI", chunk[:12])
            assert n == height * width * want.itemsize, f"chunk header says {n} bytes"
            raw = numpy.frombuffer(chunk[12:], dtype=numpy.uint8)
            dec = bitshuffle.decompress_lz4(raw, (height, width), numpy.dtype(dtype), block // want.itemsize)
            if not numpy.array_equal(dec, want[i]):
                print(f"bitshuffle.decompress_lz4: frame {i} differs")
                return 1
            i += 1
    if i != frames:
        print(f"read {i} frames, expected {frames}")
        return 1
    print(f"ok {i} frames")
    return 0


def write(path, expected, dtype, frames, height, width, seed, block=0):
    rng = numpy.random.default_rng(seed)
    info = numpy.iinfo(dtype)
    a = rng.poisson(3.0, size=(frames, height, width)).astype(numpy.int64)
    a[:, ::7, ::5] = rng.integers(0, min(info.max, 1 << 20), size=a[:, ::7, ::5].shape)
    a[:, 1, :] = info.max  # overflow flag row
    if info.min < 0:
        a[:, 2, :] = -1
    a = a.astype(dtype)
    a.tofile(expected)
    with h5py.File(path, "w") as f:
        g = f.create_group("entry").create_group("data")
        g.create_dataset("data", data=a, chunks=(1, height, width),
                         compression=bitshuffle.h5.H5FILTER, compression_opts=(block, bitshuffle.h5.H5_COMPRESS_LZ4))
    print(f"wrote {frames} frames")
    return 0


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "read":
        sys.exit(read(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5])))
    sys.exit(write(args[0], args[1], args[2], int(args[3]), int(args[4]), int(args[5]), int(args[6]),
                   int(args[7]) if len(args) > 7 else 0))
