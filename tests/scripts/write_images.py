#!/usr/bin/python3
"""Writes masks, darks and flats as pyFAI users have them, with the tools that write them (fabio: EDF, TIFF, CBF;
numpy: .npy; h5py: HDF5), plus the expected pixels, for tests/test_image_io.cpp. Also a few broken files.

usage: write_images.py OUTDIR   -> OUTDIR/manifest.json lists {spec, height, width, type, expected (raw f64 file)}
"""
import json
import os
import sys

import fabio
import h5py
import numpy

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
H, W = 7, 5
rng = numpy.random.default_rng(13)
mask = (rng.random((H, W)) > 0.6).astype(numpy.int8)
flat32 = (0.5 + rng.random((H, W))).astype(numpy.float32)  # fractional: a flat that int32 would ruin
dark64 = rng.normal(10.0, 3.0, (H, W)).astype(numpy.float64)
counts = rng.integers(-2, 60000, (H, W)).astype(numpy.int32)
entries = []


def add(spec, data, type_name):
    raw = os.path.join(out, "expected_%d.f64" % len(entries))
    numpy.asarray(data, dtype="<f8").tofile(raw)
    entries.append({"spec": spec, "height": int(data.shape[0]), "width": int(data.shape[1]), "type": type_name,
                    "expected": raw})


def path(name):
    return os.path.join(out, name)


# EDF, as pyFAI-drawmask and fabio write it
fabio.edfimage.EdfImage(data=mask).write(path("mask.edf"))
add(path("mask.edf"), mask, "int8")
fabio.edfimage.EdfImage(data=flat32).write(path("flat32.edf"))
add(path("flat32.edf"), flat32, "float32")
fabio.edfimage.EdfImage(data=dark64).write(path("dark64.edf"))
add(path("dark64.edf"), dark64, "float64")
# A big-endian EDF (as written on old Sun/PowerPC machines): fabio's uint16 file with its data byte-swapped.
fabio.edfimage.EdfImage(data=counts.astype(numpy.uint16)).write(path("be16.edf"))
with open(path("be16.edf"), "rb") as f:
    b = f.read()
end = b.index(b"}\n") + 2
with open(path("be16.edf"), "wb") as f:
    f.write(b[:end].replace(b"LowByteFirst", b"HighByteFirst") + numpy.frombuffer(b[end:], "<u2").astype(">u2").tobytes())
add(path("be16.edf"), counts.astype(numpy.uint16), "uint16")
# NumPy
numpy.save(path("mask.npy"), mask.astype(numpy.uint8))
add(path("mask.npy"), mask, "uint8")
numpy.save(path("mask_bool.npy"), mask.astype(bool))
add(path("mask_bool.npy"), mask, "bool")
numpy.save(path("flat32.npy"), flat32)
add(path("flat32.npy"), flat32, "float32")
numpy.save(path("dark64.npy"), dark64)
add(path("dark64.npy"), dark64, "float64")
numpy.save(path("dark64_be_fortran.npy"), numpy.asfortranarray(dark64.astype(">f8")))
add(path("dark64_be_fortran.npy"), dark64, "float64")
numpy.save(path("stack1.npy"), counts[numpy.newaxis])
add(path("stack1.npy"), counts, "int32")
# TIFF (fabio's writer)
fabio.tifimage.TifImage(data=mask.astype(numpy.uint8)).write(path("mask.tif"))
add(path("mask.tif"), mask, "uint8")
fabio.tifimage.TifImage(data=flat32).write(path("flat32.tif"))
add(path("flat32.tif"), flat32, "float32")
fabio.tifimage.TifImage(data=counts).write(path("counts.tif"))
add(path("counts.tif"), counts, "int32")
# HDF5 (h5py), named FILE::/path as pyFAI and silx name them
with h5py.File(path("calib.h5"), "w") as f:
    f["/entry/mask"] = mask
    f["/entry/flat"] = flat32
    f.create_dataset("/entry/dark", data=dark64, compression="gzip")
    f["/entry/stack"] = numpy.stack([counts, counts])
    f["/entry/one"] = counts[numpy.newaxis]
    f["/entry/text"] = "not an image"
add(path("calib.h5") + "::/entry/mask", mask, "int8")
add(path("calib.h5") + "::/entry/flat", flat32, "float32")
add(path("calib.h5") + "::/entry/dark", dark64, "float64")
add(path("calib.h5") + "::/entry/one", counts, "int32")
# CBF (fabio)
fabio.cbfimage.CbfImage(data=counts).write(path("counts.cbf"))
add(path("counts.cbf"), counts, "int32")

# Broken files: each must give an error naming the file and what was expected.
bad = {}
with open(path("mask.npy"), "rb") as f:
    b = f.read()
with open(path("truncated.npy"), "wb") as f:
    f.write(b[:-5])
bad["truncated.npy"] = "file ends inside the array"
with open(path("flat32.edf"), "rb") as f:
    b = f.read()
with open(path("truncated.edf"), "wb") as f:
    f.write(b[:-3])
bad["truncated.edf"] = "file ends inside the EDF data"
with open(path("compressed.edf"), "wb") as f:
    f.write(b.replace(b"DataType", b"Compression = GzipCompression ;\nDataType", 1))
bad["compressed.edf"] = "Compression = GzipCompression is not supported"
with open(path("twoframes.edf"), "wb") as f:
    f.write(b + b)
bad["twoframes.edf"] = "more than one frame"
numpy.save(path("complex.npy"), numpy.zeros((2, 2), numpy.complex64))
bad["complex.npy"] = "dtype '<c8' is not supported"
numpy.save(path("cube.npy"), numpy.zeros((2, 3, 4), numpy.uint8))
bad["cube.npy"] = "expected one 2D image"
bad[os.path.basename(path("calib.h5")) + "::/entry/stack"] = "2 frames: expected one 2D image"
bad[os.path.basename(path("calib.h5")) + "::/entry/missing"] = "no dataset /entry/missing"
bad[os.path.basename(path("calib.h5")) + "::/entry/text"] = "not integers or floats"
bad["calib.h5"] = "needs the dataset"
with open(path("notanimage.txt"), "w") as f:
    f.write("hello\n")
bad["notanimage.txt"] = "not an image format xrdbench reads"
bad["mask.npy::/x"] = "the file is not HDF5"

with open(path("manifest.json"), "w") as f:
    json.dump({"images": entries, "bad": [{"spec": path(k), "message": v} for k, v in bad.items()],
               "height": H, "width": W}, f, indent=1)
