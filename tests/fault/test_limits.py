#!/usr/bin/python3
"""Fault injection: limits and wrong words.

  - reader threads that cannot be created (RLIMIT_NPROC, as the user nobody when root): pool and opencl-batched mark
    the row invalid with the reason, exit 3, no std::terminate;
  - negative --readers / --frames, --bins 100000000: a clear message naming the option, exit 1, no bad_alloc;
  - table1 exits 3 when a row is invalid, like run; both --help say so;
  - --verify-md5 with a corrupted payload: the row's first reason is the MD5 mismatch;
  - cache evict on tmpfs: exit 1 and says why; --drop-caches without root: results.json says drop_caches false.
"""
import os
import shutil

import faultlib as F

tmp = F.init()
ds = F.make_dataset(os.path.join(tmp, "ds"), frames=4)
env = dict(os.environ, POCL_CACHE_DIR=os.path.join(tmp, "pocl"), HOME=tmp)
os.makedirs(env["POCL_CACHE_DIR"], mode=0o777, exist_ok=True)
os.chmod(env["POCL_CACHE_DIR"], 0o777)
device = F.device_available()
COMMON = ["--repeats", "1", "--warmup", "0", "--bins", "100", "--unit", "2th_deg", "--quiet"]

# 1. Out of threads. The limit counts every thread of the user nobody: the main thread, PoCL's workers (the machine
# capture lists the OpenCL devices even for CPU rows; POCL_MAX_PTHREAD_COUNT=2 fixes their number; PoCL aborts by
# itself when it gets none), then the readers; --threads 1: no oneTBB workers. So reader 2 is refused while reader 1
# lives: opencl-batched readers wait for the first batch; a pool reader has 100 frames to read.
many = F.make_dataset(os.path.join(tmp, "many"), frames=100)
# Under ASan, LeakSanitizer's exit check starts a thread of its own: the limit would refuse it, so it is off here.
asan = os.environ.get("ASAN_OPTIONS", "")
env_nproc = dict(env, POCL_MAX_PTHREAD_COUNT="2", ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")
for s, limit, dev in [("pool", 4, "cpu")] + ([("opencl-batched", 4, "opencl")] if device else []):
    out = os.path.join(tmp, "nproc_" + s)
    prefix = ["prlimit", "--nproc=%d:%d" % (limit, limit)] + F.as_nobody()
    r = F.xrd(["run", "--dataset", many, "--strategy", s, "--readers", "400", "--threads", "1", "--out", out,
               "--device", dev] + COMMON, prefix=prefix, env=env_nproc)
    what = "%s with 400 readers under RLIMIT_NPROC %d" % (s, limit)
    F.status(r, 3, what)
    j = F.results(out, what)
    if j and F.check(len(j["rows"]) == 1, what + ": no row"):
        head = (j["rows"][0]["invalid_reasons"] or [""])[0]
        F.check("cannot start reader thread" in head, "%s: reason %r" % (what, head))
if not device:
    print("note: no OpenCL device: opencl-batched not exercised")

# 2. Option checks: a value out of range is a usage error (exit 2, the usage on stderr), refused before measuring.
for opt, val, word in (("--readers", "-3", "--readers"), ("--frames", "-1", "--frames"),
                       ("--bins", "100000000", "--bins"), ("--bins", "0", "--bins"), ("--batch", "-1", "--batch")):
    args = ["run", "--dataset", ds, "--strategy", "pool", "--out", os.path.join(tmp, "opts"), "--device", "cpu",
            "--repeats", "1", opt, val]
    r = F.xrd(args)
    F.status(r, 2, "%s %s" % (opt, val))
    F.check("Usage: xrdbench run" in r.err, "%s %s: no usage on stderr" % (opt, val))
    F.check(word in r.err and "bad_alloc" not in r.err, "%s %s: message %r" % (opt, val, r.err))
    F.check("reference" not in r.err, "%s %s: it measured" % (opt, val))

# 3. table1 exit status, and the documented codes.
out = os.path.join(tmp, "table1_invalid")
r = F.xrd(["table1", "--dataset", ds, "--rows", "sequential-cpu-SSD", "--skip-eviction", "--out", out,
           "--device", "cpu"] + COMMON)
F.status(r, 3, "table1 with an invalid row")
j = F.results(out, "table1 with an invalid row")
F.check(j is not None and j["rows"][0]["valid"] is False, "table1 with an invalid row: row valid?")
for cmd in ("run", "table1"):
    h = F.xrd([cmd, "--help"])
    F.status(h, 0, cmd + " --help")
    F.check("Exit status" in h.out and "3" in h.out and "130" in h.out, "%s --help lacks the exit codes" % cmd)

# 4. --verify-md5: the headline is the MD5 mismatch.
md5ds = os.path.join(tmp, "md5")
shutil.copytree(ds, md5ds)
p = os.path.join(md5ds, "frame_00002.cbf")
data = bytearray(open(p, "rb").read())
start = data.find(b"\x0c\x1a\x04\xd5") + 4  # the payload follows the CBF binary marker
data[start + 200] = (data[start + 200] + 1) % 128  # still a valid small delta: decodes, but the MD5 differs
open(p, "wb").write(bytes(data))
out = os.path.join(tmp, "md5_out")
r = F.xrd(["run", "--dataset", md5ds, "--strategy", "sequential", "--verify-md5", "--out", out, "--device", "cpu"]
          + COMMON)
F.status(r, 3, "--verify-md5 on a corrupted frame")
j = F.results(out, "--verify-md5")
if j:
    head = (j["rows"][0]["invalid_reasons"] or [""])[0]
    F.check("MD5" in head and "frame_00002.cbf" in head, "--verify-md5: first reason %r" % head)

# 5. cache evict where nothing can be evicted (tmpfs), and --drop-caches without root.
shm = "/dev/shm"
if os.path.isdir(shm) and os.access(shm, os.W_OK):
    d = os.path.join(shm, "xrd_fault_evict_%d" % os.getpid())
    shutil.copytree(ds, d)
    r = F.xrd(["cache", "evict", d])
    F.status(r, 1, "cache evict on tmpfs")
    F.check("NOT evicted" in r.out and "tmpfs" in r.out, "cache evict on tmpfs: %r" % r.out)
    shutil.rmtree(d, ignore_errors=True)
else:
    print("note: no writable /dev/shm: the tmpfs eviction case is skipped")
if os.geteuid() == 0:  # files of another user: their eviction cannot be confirmed (mincore hides it): said, exit 1
    r = F.xrd(["cache", "evict", ds], prefix=F.as_nobody())
    F.status(r, (0, 1), "cache evict of another user's files")
    if r.rc == 1:  # Linux >= 5.2
        F.check("another user" in r.out, "cache evict of another user's files: %r" % r.out)
    else:  # an older kernel shows the residency: then the eviction was confirmed
        F.check("NOT evicted" not in r.out, "cache evict of another user's files: exit 0 but %r" % r.out)
out = os.path.join(tmp, "drop")
r = F.xrd(["run", "--dataset", ds, "--strategy", "sequential", "--cache", "cold", "--drop-caches", "--out", out,
           "--device", "cpu", "--repeats", "1", "--warmup", "0", "--bins", "100"], prefix=F.as_nobody(), env=env)
F.status(r, (0, 3), "--drop-caches without root")
F.check("needs root" in r.err, "--drop-caches without root: no warning: %r" % r.err)
j = F.results(out, "--drop-caches without root")
F.check(j is not None and j["settings"]["drop_caches"] is False, "--drop-caches without root: drop_caches true")

F.rmtree(tmp)
F.finish()
