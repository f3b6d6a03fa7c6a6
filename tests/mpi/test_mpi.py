#!/usr/bin/python3
"""`mpirun -n R xrdbench run|table1` (Open MPI, oversubscribed on CI's 2 cores): on a small synthetic dataset the
ranks' patterns, gathered into one HDF5 file, equal `xrdbench integrate`'s (the single-process reference) frame by
frame, every frame once; results.json has one row with the aggregate and per-rank figures; a bad frame on one rank is
reported and the other frames kept; a killed rank or a stuck one ends the job with a clear message within seconds;
without mpirun nothing of MPI shows. Usage: test_mpi.py --xrdbench PATH [unittest args]."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import h5py
import numpy as np

XRDBENCH = None
FRAMES = 7
BINS = 300
# The realtime tests' dataset: small frames (173 x 131 pixels), so that test-sleep-10ms's 10 ms of service hold
# whatever the load of the machine (a 2M frame alone takes ~17 ms to reduce on CI).
RT_FRAMES, RT_W, RT_H, RT_BINS = 5, 173, 131, 100
# Open MPI refuses to start as root without these (CI runs as root); set here only, for the commands of this test.
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
# Under the ASan preset: Open MPI's own allocations are not our leaks (lsan.supp), and its memory patcher (hooks for
# RDMA registration, unused on one host with shared memory) is kept out of the sanitizer's way.
ENV["LSAN_OPTIONS"] = ":".join(x for x in (os.environ.get("LSAN_OPTIONS", ""), "suppressions=" + os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "lsan.supp"), "print_suppressions=0") if x)
ENV["OMPI_MCA_memory"] = "^patcher"


def run(args, timeout=300):
    p = subprocess.run(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def mpirun(n, args, timeout=300):
    return run(["mpirun", "--oversubscribe", "-n", str(n), XRDBENCH] + args, timeout)


def intensity(path):
    """(frames x bins intensities, source file names) in frame order. A file laid out as a sinogram (rotations x
    translations x bins, from the dataset's scan) is flattened and cut to the dataset's frames."""
    with h5py.File(path, "r") as f:
        d = f["entry/integrate"]
        a = d["intensity"][()].astype(np.float64)
        names = [s.decode() if isinstance(s, bytes) else s for s in np.asarray(d["source_files"][()]).ravel()]
        return a.reshape(-1, a.shape[-1])[:FRAMES], names[:FRAMES]


def stream_patterns(path):
    """(intensities, source names, valid flags) of every frame of a realtime patterns file (stream order)."""
    with h5py.File(path, "r") as f:
        d = f["entry/integrate"]
        names = [s.decode() if isinstance(s, bytes) else s for s in np.asarray(d["source_files"][()]).ravel()]
        return d["intensity"][()].astype(np.float64), names, [int(v) for v in np.asarray(d["valid"][()]).ravel()]


def make_small_dataset(d):
    """RT_FRAMES CBF frames of RT_W x RT_H pixels with three rings (written by `xrdbench cbf encode`), a PONI with the
    beam inside the frame, and a mask. Returns the frames' paths."""
    os.makedirs(d)
    y, x = np.mgrid[0:RT_H, 0:RT_W]
    r = np.hypot(x + 0.5 - RT_W * 0.45, y + 0.5 - RT_H * 0.55)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(RT_FRAMES):
        v = 20 + 200 * np.exp(-r / 40)
        for r0 in (25.0, 47.0, 70.0):
            v = v + (300.0 + 40.0 * i) * np.exp(-0.5 * ((r - r0) / 1.5) ** 2)
        px = (v + rng.integers(0, 13, size=v.shape)).astype("<i4")
        px[60, :] = -1  # a gap row
        raw = os.path.join(d, "frame.i32le")
        px.tofile(raw)
        paths.append(os.path.join(d, "frame_%05d.cbf" % i))
        rc, out, err = run([XRDBENCH, "cbf", "encode", "--width", str(RT_W), "--height", str(RT_H), raw, paths[-1]])
        assert rc == 0, err
    mask = np.zeros((RT_H, RT_W), "<i4")
    mask[5, 7] = mask[100, 150] = 1
    mask.tofile(raw)
    rc, out, err = run([XRDBENCH, "cbf", "encode", "--width", str(RT_W), "--height", str(RT_H), raw,
                        os.path.join(d, "mask.cbf")])
    assert rc == 0, err
    os.remove(raw)
    with open(os.path.join(d, "geometry.poni"), "w") as f:
        f.write("poni_version: 2\nDetector: Detector\nDetector_config: {\"pixel1\": 0.000172, \"pixel2\": 0.000172, "
                "\"max_shape\": null}\nDistance: 0.05\nPoni1: %r\nPoni2: %r\nRot1: 0\nRot2: 0\nRot3: 0\n"
                "Wavelength: 1e-10\n" % (RT_H * 0.55 * 172e-6, RT_W * 0.45 * 172e-6))
    return paths


def valid_flags(path):
    with h5py.File(path, "r") as f:
        return [int(v) for v in np.asarray(f["entry/integrate/valid"][()]).ravel()[:FRAMES]]


def rel_diff(a, b):
    m = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.where(m > 0, np.abs(a - b) / np.where(m > 0, m, 1), 0)))


def rank_pids(tag, rank):
    """PIDs of the xrdbench processes of this test (their command line holds `tag`) with that MPI rank."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"xrdbench") and tag.encode() in b" ".join(cmd) and \
                ("OMPI_COMM_WORLD_RANK=%d" % rank).encode() in env:
            pids.append(int(d))
    return pids


class Mpi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xrd_mpi_")
        cls.ds = os.path.join(cls.tmp, "ds")
        rc, out, err = run([XRDBENCH, "dataset", "synth", "--out", cls.ds, "--frames", str(FRAMES), "-j", "2"])
        assert rc == 0, err
        # The single-process reference: `xrdbench integrate` on every frame, same geometry, mask and binning.
        cls.frames = sorted(os.path.join(cls.ds, f) for f in os.listdir(cls.ds)
                            if f.startswith("frame_") and f.endswith(".cbf"))
        cls.ref_h5 = os.path.join(cls.tmp, "reference.h5")
        rc, out, err = run([XRDBENCH, "integrate", "--poni", os.path.join(cls.ds, "geometry.poni"), "--mask",
                            os.path.join(cls.ds, "mask.cbf"), "--bins", str(BINS), "--unit", "q_nm^-1", "--split",
                            "bbox", "--quiet", "--out", cls.ref_h5] + cls.frames)
        assert rc == 0, err
        cls.ref, cls.ref_files = intensity(cls.ref_h5)
        assert cls.ref.shape == (FRAMES, BINS) and np.all(cls.ref.max(axis=1) > 0)
        # The realtime tests' small dataset and its single-process reference.
        cls.rt_ds = os.path.join(cls.tmp, "rt_ds")
        cls.rt_files = make_small_dataset(cls.rt_ds)
        rt_h5 = os.path.join(cls.tmp, "rt_reference.h5")
        rc, out, err = run([XRDBENCH, "integrate", "--poni", os.path.join(cls.rt_ds, "geometry.poni"), "--mask",
                            os.path.join(cls.rt_ds, "mask.cbf"), "--bins", str(RT_BINS), "--unit", "q_nm^-1",
                            "--split", "bbox", "--quiet", "--out", rt_h5] + cls.rt_files)
        assert rc == 0, err
        with h5py.File(rt_h5, "r") as f:
            cls.rt_ref = f["entry/integrate/intensity"][()].astype(np.float64)
        assert cls.rt_ref.shape == (RT_FRAMES, RT_BINS) and np.all(cls.rt_ref.max(axis=1) > 0)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def row_args(self, out, dataset=None, strategy="fused", repeats=2):
        return ["run", "--dataset", dataset or self.ds, "--strategy", strategy, "--bins", str(BINS), "--repeats",
                str(repeats), "--warmup", "1", "--out", out, "--device", "cpu"]

    def check_ranks(self, n, strategy, base_id=None):
        row_id = "%s-mpi%d" % (base_id or strategy + "-cpu-MEM", n)
        out = os.path.join(self.tmp, "%s-n%d" % (strategy, n))
        rc, stdout, err = mpirun(n, self.row_args(out, strategy=strategy))
        self.assertEqual(rc, 0, err)
        # Rank 0 alone prints the results path and the row line.
        self.assertEqual(stdout.count("results.json"), 1, stdout)
        self.assertEqual(err.count(row_id + " "), 1, err)
        with open(os.path.join(out, "results.json")) as f:
            doc = json.load(f)
        self.assertEqual(len(doc["rows"]), 1)
        row = doc["rows"][0]
        self.assertEqual(row["id"], row_id)
        self.assertTrue(row["valid"], row["invalid_reasons"])
        self.assertTrue(row["validated"])
        self.assertLessEqual(row["max_rel_diff"], 1e-5)
        self.assertEqual(row["frames"], FRAMES)
        self.assertEqual(row["failed_frames"], 0)
        mpi = row["mpi"]
        self.assertEqual(mpi["ranks"], n)
        self.assertEqual(mpi["hosts"], 1)
        self.assertEqual(mpi["distribution"], "contiguous")
        ranks = mpi["per_rank"]
        self.assertEqual([r["rank"] for r in ranks], list(range(n)))
        # Contiguous blocks covering every frame once, sizes differing by at most one.
        first = 0
        for r in ranks:
            self.assertEqual(r["first_frame"], first)
            first += r["frames"]
            self.assertIn(r["frames"], (FRAMES // n, FRAMES // n + 1))
            for k in ("host", "cpus", "threads", "device", "device_id", "failed_frames", "errors", "fps", "wall_s",
                      "stages_ms", "residency_before"):
                self.assertIn(k, r)
            self.assertEqual(len(r["fps"]["runs"]), 2)
            self.assertGreater(r["fps"]["median"], 0)
            self.assertGreater(r["stages_ms"]["integrate"], 0)
            self.assertEqual(r["device"], "cpu")
            # Each rank's fps is its own frames over its own run time.
            for fps, wall in zip(r["fps"]["runs"], r["wall_s"]["runs"]):
                self.assertAlmostEqual(fps * wall, r["frames"], delta=1e-6 * r["frames"])
        self.assertEqual(first, FRAMES)
        # Aggregate: every frame over the wall time from the start barrier to the end (rank 0 wrote the file), which
        # is at least the slowest rank's run time.
        self.assertEqual(len(row["fps"]["runs"]), 2)
        for k, (fps, wall) in enumerate(zip(row["fps"]["runs"], row["wall_s"]["runs"])):
            self.assertAlmostEqual(fps * wall, FRAMES, delta=1e-6 * FRAMES)
            slowest = max(r["wall_s"]["runs"][k] for r in ranks)
            self.assertGreaterEqual(wall + 1e-9, slowest)
        self.assertGreaterEqual(mpi["gather_write_s"], 0)
        # One HDF5 file, frames in order, equal to the single-process reference.
        got, files = intensity(os.path.join(out, "patterns", row["id"] + ".h5"))
        self.assertEqual(got.shape, (FRAMES, BINS))
        self.assertEqual([os.path.basename(x) for x in files], [os.path.basename(x) for x in self.ref_files])
        self.assertEqual(valid_flags(os.path.join(out, "patterns", row["id"] + ".h5")), [1] * FRAMES)
        self.assertLessEqual(rel_diff(got, self.ref), 1e-5)
        return got

    def test_two_and_three_ranks_equal_one_process(self):
        two = self.check_ranks(2, "fused")
        three = self.check_ranks(3, "fused")
        np.testing.assert_array_equal(two, three)

    def test_pool_strategy_on_three_ranks(self):
        self.check_ranks(3, "pool", "pool-2-cpu-MEM")

    def test_without_mpirun_nothing_changes(self):
        out = os.path.join(self.tmp, "single")
        rc, stdout, err = run([XRDBENCH] + self.row_args(out))
        self.assertEqual(rc, 0, err)
        with open(os.path.join(out, "results.json")) as f:
            row = json.load(f)["rows"][0]
        self.assertEqual(row["id"], "fused-cpu-MEM")
        self.assertNotIn("mpi", row)
        self.assertNotIn("MPI", row["label"])

    def test_bad_frame_on_one_rank(self):
        # Frame 3 is in rank 1's block (of 3 ranks over 7 frames: 0-1, 2-3, 4-6); its file is cut in half.
        ds = os.path.join(self.tmp, "ds_bad")
        shutil.copytree(self.ds, ds)
        bad = os.path.join(ds, "frame_00003.cbf")
        size = os.path.getsize(bad)
        with open(bad, "r+b") as f:
            f.truncate(size // 2)
        out = os.path.join(self.tmp, "bad")
        rc, stdout, err = mpirun(3, self.row_args(out, dataset=ds))
        self.assertEqual(rc, 3, err)  # the row is invalid (a frame failed), the job itself ran to the end
        with open(os.path.join(out, "results.json")) as f:
            row = json.load(f)["rows"][0]
        self.assertFalse(row["valid"])
        self.assertEqual(row["failed_frames"], 1)
        self.assertTrue(any("1 of 7 frames failed" in r for r in row["invalid_reasons"]), row["invalid_reasons"])
        self.assertEqual(len(row["errors"]), 1)
        self.assertTrue(row["errors"][0]["file"].endswith("frame_00003.cbf"), row["errors"])
        self.assertIn("rank 1", row["errors"][0]["reason"])
        self.assertEqual([r["failed_frames"] for r in row["mpi"]["per_rank"]], [0, 1, 0])
        self.assertTrue(row["mpi"]["per_rank"][1]["errors"][0]["file"].endswith("frame_00003.cbf"))
        # The other frames' patterns are kept, in place; the failed frame's row is NaN and marked invalid.
        got, _ = intensity(os.path.join(out, "patterns", row["id"] + ".h5"))
        keep = [i for i in range(FRAMES) if i != 3]
        self.assertLessEqual(rel_diff(got[keep], self.ref[keep]), 1e-5)
        self.assertTrue(np.all(np.isnan(got[3])))
        self.assertEqual(valid_flags(os.path.join(out, "patterns", row["id"] + ".h5")), [1, 1, 1, 0, 1, 1, 1])

    def start_long_job(self, tag, extra=(), command=None):
        out = os.path.join(self.tmp, tag)
        args = ["mpirun", "--oversubscribe", "-n", "2", XRDBENCH] + (command or self.row_args(out, repeats=100000) +
                                                                    ["--no-write", "--quiet"]) + list(extra)
        p = subprocess.Popen(args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # Wait until rank 1 exists and has been running for a while (dataset loaded, runs going).
        deadline = time.time() + 60
        pids = []
        while time.time() < deadline and not pids:
            pids = rank_pids(tag, 1)
            time.sleep(0.2)
        self.assertTrue(pids, "rank 1 never started")
        time.sleep(6)
        self.assertIsNone(p.poll(), "the job ended before the test could stop a rank")
        return p, pids[0]

    def test_killed_rank_fails_the_job_within_seconds(self):
        p, pid = self.start_long_job("killed")
        os.kill(pid, signal.SIGKILL)
        t0 = time.time()
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            self.fail("the job hung after rank 1 was killed")
        elapsed = time.time() - t0
        self.assertNotEqual(p.returncode, 0, out)
        self.assertLess(elapsed, 10, out)
        self.assertIn("rank 1", out)
        self.assertIn("signal 9", out)
        self.assertEqual(rank_pids("killed", 0), [], "rank 0 is still running")

    def test_stuck_rank_aborts_after_the_timeout(self):
        p, pid = self.start_long_job("stuck", ["--mpi-timeout", "3"])
        os.kill(pid, signal.SIGSTOP)  # alive but not progressing: only a time limit ends the wait
        t0 = time.time()
        try:
            out, _ = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            p.kill()
            self.fail("the job hung with rank 1 stopped")
        elapsed = time.time() - t0
        self.assertNotEqual(p.returncode, 0, out)
        self.assertLess(elapsed, 20, out)
        self.assertIn("rank 0/2", out)
        self.assertIn("a rank is stuck", out)
        self.assertEqual(rank_pids("stuck", 1), [], "the stopped rank survived the abort")

    def test_opencl_all_on_one_device_is_opencl(self):
        rows = {}
        for dev in ("opencl", "opencl:all"):
            out = os.path.join(self.tmp, "ocl-" + dev.replace(":", "_"))
            args = self.row_args(out, strategy="opencl-batched", repeats=1)
            args[args.index("--device") + 1] = dev
            rc, stdout, err = run([XRDBENCH] + args)
            self.assertEqual(rc, 0, err)
            with open(os.path.join(out, "results.json")) as f:
                rows[dev] = json.load(f)["rows"][0]
            self.assertTrue(rows[dev]["valid"], rows[dev]["invalid_reasons"])
            rows[dev]["patterns"], _ = intensity(os.path.join(out, "patterns", rows[dev]["id"] + ".h5"))
        self.assertEqual(rows["opencl:all"]["device"], rows["opencl"]["device"])  # PoCL: one device, no "+ more"
        np.testing.assert_array_equal(rows["opencl:all"]["patterns"], rows["opencl"]["patterns"])

    def test_local_rank_device_on_two_ranks(self):
        out = os.path.join(self.tmp, "local-rank")
        args = self.row_args(out, strategy="opencl-batched", repeats=1)
        args[args.index("--device") + 1] = "opencl:local-rank"
        rc, stdout, err = mpirun(2, args)
        self.assertEqual(rc, 0, err)
        with open(os.path.join(out, "results.json")) as f:
            row = json.load(f)["rows"][0]
        self.assertTrue(row["valid"], row["invalid_reasons"])
        # One device here (PoCL): both ranks share it (rank i takes device i mod 1).
        self.assertEqual([r["device_id"] for r in row["mpi"]["per_rank"]], ["opencl:0:0", "opencl:0:0"])
        got, _ = intensity(os.path.join(out, "patterns", row["id"] + ".h5"))
        self.assertLessEqual(rel_diff(got, self.ref), 1e-5)

    def test_scaling_report(self):
        # One process with 1 thread, then 2 and 3 ranks with 1 thread each: one series in the scaling view.
        paths = []
        for n in (1, 2, 3):
            out = os.path.join(self.tmp, "scale-%d" % n)
            args = self.row_args(out, strategy="sequential", repeats=1) + ["--threads", "1", "--no-write"]
            rc, _, err = run([XRDBENCH] + args) if n == 1 else mpirun(n, args)
            self.assertEqual(rc, 0, err)
            paths.append(os.path.join(out, "results.json"))
        rep = os.path.join(self.tmp, "report")
        rc, stdout, err = run([XRDBENCH, "report"] + paths + ["--out", rep])
        self.assertEqual(rc, 0, err)
        with open(os.path.join(rep, "scaling.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        with open(os.path.join(rep, "report.md")) as f:
            md = f.read()
        self.assertIn("## MPI ranks: scaling", md)
        self.assertIn("![aggregate fps against MPI ranks, with the ideal line](scaling.png)", md)
        fps = []
        for p in paths:
            with open(p) as f:
                fps.append(json.load(f)["rows"][0]["fps"]["median"])
        section = md.split("## MPI ranks: scaling")[1].split("\n## ")[0]
        lines = [l for l in section.splitlines() if l.startswith("| ") and "| sequential-cpu-MEM |" in l]
        self.assertEqual(len(lines), 3, md)
        for n, line in zip((1, 2, 3), lines):
            cells = [c.strip() for c in line.strip("|").split("|")]
            self.assertEqual(cells[2:4], [str(n), "1"])
            # The ideal is the 1-rank point times the ranks; the efficiency is measured / ideal.
            self.assertEqual(cells[6], "%.0f%%" % (100 * fps[n - 1] / (fps[0] * n)))

    def test_table1_rows_on_two_ranks(self):
        out = os.path.join(self.tmp, "table1")
        rc, stdout, err = mpirun(2, ["table1", "--dataset", self.ds, "--rows", "sequential-cpu-MEM,fused-cpu-MEM",
                                     "--bins", str(BINS), "--repeats", "1", "--warmup", "0", "--out", out,
                                     "--device", "cpu"])
        self.assertEqual(rc, 0, err)
        with open(os.path.join(out, "results.json")) as f:
            rows = json.load(f)["rows"]
        self.assertEqual([r["id"] for r in rows], ["sequential-cpu-MEM-mpi2", "fused-cpu-MEM-mpi2"])
        for r in rows:
            self.assertTrue(r["valid"], r["invalid_reasons"])
            self.assertEqual(r["mpi"]["ranks"], 2)
            got, _ = intensity(os.path.join(out, "patterns", r["id"] + ".h5"))
            self.assertLessEqual(rel_diff(got, self.ref), 1e-5)
        with open(os.path.join(out, "table1.md")) as f:
            md = f.read()
        self.assertIn("fused-cpu-MEM-mpi2", md)

    # ---- realtime under mpirun: the stream fanned out round-robin (frame i -> rank i mod R) ----------------------

    def realtime_args(self, out, strategy, rate, frames, extra=()):
        return ["realtime", "--dataset", self.rt_ds, "--strategy", strategy, "--bins", str(RT_BINS), "--rate", str(rate),
                "--frames", str(frames), "--buffer-frames", "1000", "--device", "cpu", "--out", out] + list(extra)

    def check_realtime(self, n, strategy, rate, frames, keeps_up, extra=()):
        """One paced run on n ranks (0: one process without mpirun): the realtime block, the per-rank figures, the
        patterns file in stream order against the single-process reference. Returns the run."""
        out = os.path.join(self.tmp, "rt-%s-%g-n%d" % (strategy, rate, n))
        args = self.realtime_args(out, strategy, rate, frames, extra)
        rc, stdout, err = run([XRDBENCH] + args) if n == 0 else mpirun(n, args)
        self.assertEqual(rc, 0, err)
        self.assertEqual(stdout.count("results.json"), 1, stdout)  # rank 0 alone writes and says where
        with open(os.path.join(out, "results.json")) as f:
            doc = json.load(f)
        runs = doc["realtime"]["runs"]
        self.assertEqual(len(runs), 1)
        r = runs[0]
        self.assertEqual(r["frames"], frames)
        self.assertEqual(r["reduced"], frames)  # the buffer holds them all: nothing dropped
        self.assertEqual(r["dropped"] + r["failed"], 0)
        self.assertEqual(r["invalid_reasons"], [])
        self.assertTrue(r["validated"])
        self.assertEqual(r["frames_compared"], frames)
        self.assertLessEqual(r["max_rel_diff"], 1e-5)
        self.assertEqual(len(r["latencies_ms"]), frames)  # every frame's latency, in stream order
        self.assertEqual(r["verdict"]["keeps_up"], keeps_up, r["verdict"])
        if n == 0:
            self.assertNotIn("mpi", r)
            return r
        self.assertEqual(r["row"], "%s-cpu-MEM-mpi%d" % (strategy, n))
        mpi = r["mpi"]
        self.assertEqual((mpi["ranks"], mpi["hosts"], mpi["distribution"]), (n, 1, "round-robin"))
        ranks = mpi["per_rank"]
        self.assertEqual([k["rank"] for k in ranks], list(range(n)))
        for k in ranks:
            # Round-robin: rank k has stream frames k, k + n, ...
            self.assertEqual((k["first_stream_frame"], k["stride"]), (k["rank"], n))
            self.assertEqual(k["frames"], len(range(k["rank"], frames, n)))
            self.assertEqual(k["reduced"], k["frames"])
            self.assertEqual(k["invalid_reasons"], [])
            self.assertGreater(k["latency_ms"]["p50"], 0)
            for key in ("host", "cpus", "threads", "device", "achieved_hz", "wall_s", "backlog", "reasons"):
                self.assertIn(key, k)
        self.assertEqual(sum(k["reduced"] for k in ranks), frames)
        # The job keeps up only if every rank does; its backlog is at least any rank's; its p99 is over all frames.
        self.assertEqual(r["verdict"]["keeps_up"], keeps_up and all(k["keeps_up"] for k in ranks))
        self.assertGreaterEqual(r["backlog"]["max"], max(k["backlog"]["max"] for k in ranks))
        self.assertAlmostEqual(r["latency_ms"]["max"], max(k["latency_ms"]["max"] for k in ranks), delta=1e-6)
        self.assertAlmostEqual(r["latency_ms"]["max"], max(r["latencies_ms"]), delta=1e-6)
        # Rank i's frames are released at its share of the detector clock: the run lasts about frames / rate.
        self.assertGreater(r["wall_s"], (frames - 1) / rate * 0.9)
        # One HDF5 file, the stream in frame order: frame i is dataset frame i mod RT_FRAMES, equal to the reference.
        path = os.path.join(out, "patterns", r["row"] + ".h5")
        self.assertEqual(mpi["patterns"], path)
        got, names, valid = stream_patterns(path)
        self.assertEqual(got.shape, (frames, RT_BINS))
        self.assertEqual(valid, [1] * frames)
        for i in range(frames):
            self.assertIn(os.path.basename(self.rt_files[i % RT_FRAMES]), names[i])
            self.assertTrue(names[i].endswith("(stream frame %d)" % i), names[i])
        self.assertLessEqual(rel_diff(got, self.rt_ref[[i % RT_FRAMES for i in range(frames)]]), 1e-5)
        return r

    def test_realtime_two_ranks_keep_up_where_one_cannot(self):
        # test-sleep-10ms serves 100 frames/s per process: at 150 Hz one process falls behind (its backlog grows by
        # ~50 frames/s), two ranks of 75 Hz each keep up with ~10 ms latency.
        one = self.check_realtime(0, "test-sleep-10ms", 150, 90, False)
        self.assertTrue(one["backlog"]["growing"], one["backlog"])
        two = self.check_realtime(2, "test-sleep-10ms", 150, 90, True)
        self.assertLess(two["latency_ms"]["p50"], 100)
        self.assertLess(two["backlog"]["max"], one["backlog"]["max"])

    def test_realtime_three_ranks(self):
        self.check_realtime(3, "fused", 20, 20, True, ["--threads", "1"])

    def test_realtime_find_max_on_two_ranks(self):
        out = os.path.join(self.tmp, "rt-findmax")
        rc, stdout, err = mpirun(2, self.realtime_args(out, "test-sleep-10ms", 50, 30,
                                                       ["--find-max", "--trial-s", "1"]))
        self.assertEqual(rc, 0, err)
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)["realtime"]["runs"][0]
        fm = r["find_max"]
        # Two servers of 100 frames/s: the batch run reaches well over one server's rate, and the highest rate
        # that keeps up is above what one process can sustain (100 Hz).
        self.assertGreater(fm["batch_fps"], 120, fm)
        self.assertGreater(fm["max_rate_hz"], 105, fm)
        self.assertLessEqual(fm["max_rate_hz"], 210, fm)
        self.assertGreaterEqual(len(fm["trials"]), 2)
        for t in fm["trials"]:
            self.assertTrue(t["validated"], t)

    def test_realtime_killed_rank_fails_the_job_within_seconds(self):
        out = os.path.join(self.tmp, "rt-killed")
        p, pid = self.start_long_job("rt-killed", command=self.realtime_args(out, "test-sleep-10ms", 20, 100000,
                                                                           ["--quiet"]))
        os.kill(pid, signal.SIGKILL)
        t0 = time.time()
        try:
            out, _ = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            self.fail("the realtime job hung after rank 1 was killed")
        self.assertNotEqual(p.returncode, 0, out)
        self.assertLess(time.time() - t0, 10, out)
        self.assertIn("rank 1", out)
        self.assertIn("signal 9", out)
        self.assertEqual(rank_pids("rt-killed", 0), [], "rank 0 is still running")


if __name__ == "__main__":
    if "--xrdbench" in sys.argv:
        i = sys.argv.index("--xrdbench")
        XRDBENCH = os.path.abspath(sys.argv[i + 1])
        del sys.argv[i:i + 2]
    if not XRDBENCH:
        sys.exit("usage: test_mpi.py --xrdbench PATH")
    unittest.main()
