#!/usr/bin/python3
"""peers.py — PyTorch and numpy embedding backward on embgrad's benchmark matrix.

Measures the peers on the SAME shapes, distributions and token ids as the Go
benchmarks in package bench, and prints Go benchmark-format (benchfmt) lines
with the same keys, so `benchstat -col /impl` and `embgrad report` put the
peers next to embgrad's kernels:

    BenchmarkBackward/impl=torch-dense/V=50257/D=768/N=8192/dist=zipf/mode=scratch/workers=2-2

workers=W is the number of threads the peer may use: torch.set_num_threads(W)
and OpenBLAS's thread count (openblas_set_num_threads). numpy's ufunc.at,
argsort, unique and reduceat are single-threaded, so the numpy peers run at
workers=1 only, as the Go matrix runs its serial kernels. The -P suffix is
what Go prints for GOMAXPROCS: the CPUs this process may run on (-procs), so
each peer row lines up with the Go kernels' row of the same workers count.

Peers (impl=…):

  torch-dense     torch.ops.aten.embedding_dense_backward: the op behind
                  nn.Embedding's backward on CPU. It allocates and zeroes a new
                  V×D gradient each call: scratch mode only.
  torch-dense-reuse
                  torch-dense run with -variant reuse under glibc settings that
                  keep freed memory (see run.sh): each call's fresh V×D table
                  reuses the previous one's resident pages instead of faulting
                  in new ones. -variant NAME appends -NAME to every impl name.
  torch-indexadd  dst.zero_(); dst.index_add_(0, ids, gradOut) (scratch) and
                  dst.index_add_(0, ids, gradOut) alone (accumulate).
  torch-sparse    torch.ops.aten.embedding_sparse_backward, the op behind
                  nn.Embedding(sparse=True). It only wraps ids and gradOut in an
                  uncoalesced sparse COO tensor (O(1) work), so the benchmark
                  also does what has to happen before the gradient is usable:
                  scratch = .coalesce() (duplicates summed, rows sorted; the
                  result is a sparse N'×D gradient, the dense V×D table is never
                  written), accumulate = dst.add_(sparse grad) (dense table +=
                  sparse gradient, as when a sparse grad is accumulated into a
                  dense buffer).
  numpy-addat     np.add.at(dst, ids, gradOut) (accumulate; scratch clears dst
                  first with dst.fill(0)).
  numpy-sorted    stable argsort of ids, np.unique(return_index) of the sorted
                  ids, np.add.reduceat of the permuted gradOut rows, then one
                  fancy-indexed add (accumulate) or store (scratch, after
                  dst.fill(0)) of the per-row sums.
  torch-matmul    tied output part dst += dZᵀ·H as dst.addmm_(dZ.t(), H) —
                  OpenBLAS sgemm with beta=1 — reported like bench/tied_test.go
                  as BenchmarkTied/impl=torch-matmul/V=…/D=…/T=…-W with
                  GFLOP/s = 2·V·D·T/(s/op)/1e9. BenchmarkTied has no workers
                  key, so here the suffix is the thread count W (at W = the
                  CPU count it lines up with the Go tied kernels' rows).

Sparse and step peers (with -sparse SPEC: the inputs of bench.SparseShapes,
dumped by `dumpids -sparse SPEC`; names as BenchmarkSparse and
BenchmarkStep):

  torch-sparse-coalesce
                  BenchmarkSparse/impl=torch-sparse-coalesce/V=…/D=…/N=…/dist=…/workers=W:
                  aten.embedding_sparse_backward (nn.Embedding(sparse=True)'s
                  backward) then .coalesce(): the coalesced gradient, the
                  form embgrad's sparse kernels write. B/s uses the Go bytes
                  model (bench.SparseBytes, from the manifest).
  torch-dense-sgd, torch-dense-adagrad
                  BenchmarkStep/impl=…/V=…/D=…/N=…/dist=…/optim=sgd|adagrad/workers=W:
                  one training step's gradient and update: W.grad =
                  aten.embedding_dense_backward(...) (a fresh V×D table each
                  call), optim.SGD(lr) / optim.Adagrad(lr).step(), W.grad = None
                  (zero_grad(set_to_none=True)). With -variant reuse (run.sh's
                  glibc settings) they become torch-dense-sgd-reuse, ….
  torch-sparse-sgd, torch-sparse-adam
                  BenchmarkStep/…/optim=sgd|adam: W.grad =
                  aten.embedding_sparse_backward(...) (uncoalesced), then
                  optim.SGD(lr).step() / optim.SparseAdam(lr).step().
                  Step peers post ns/op and tokens/s only (no B/s: the bytes
                  model of a step is the Go benchmark's).
  Each step peer is validated once from a random table against a float64
  numpy step (touched rows within a rounding bound, untouched rows bitwise
  unchanged). A peer whose tensors (-max-gb, default 8) would not fit is
  skipped with a message; Llama-3's dense table alone is 2.1 GB per tensor.

Ids: the token ids come from `go run ./bench/peers/dumpids -out DIR` (raw
little-endian int32 files + manifest.json, written from package bench's own
generators and committed text stream). peers.py runs it itself unless given
-ids DIR. The ids are widened to int64 once, outside the timed loop (torch's
index ops want int64 and that is what nn.Embedding users pass); B/s uses the
Go code's bytes model (4-byte ids), taken from the manifest, so B/s is
comparable across impls ("effective" bytes; for torch-sparse scratch the V×D
table the model counts is never written).

Timing mirrors `go test -bench -count`: per benchmark, -warmup untimed calls,
one timed call to pick the iteration count n (≥ -benchtime per sample, like
b.N), then -count samples of n back-to-back calls each; each sample is one
result line (iterations, ns/op, MB/s, tokens/s [, GFLOP/s]). gradOut is
uniform in [-1, 1) like the Go benchmarks' (values do not affect the timing).

Validation: before timing, each peer runs once in each mode on a non-trivial
destination and is compared with a float64 numpy reference within a rounding
bound (γ_{k+1}·Σ|terms| per element, k = the number of added terms); rows no id
names must be left bitwise unchanged by accumulate mode. A peer that fails
posts no numbers (the run exits non-zero).

Requires Debian's python3-torch, python3-numpy and libopenblas0-pthread
(scripts/install-peers.sh); run with /usr/bin/python3 — Debian's packages are
not visible to a pyenv/venv python3 first on PATH.

Usage:
    /usr/bin/python3 bench/peers/peers.py [-o results/peers.txt] [flags]
See -h for the filters (-shape, -dist, -mode, -impl, -workers, -tied).
"""

import argparse
import datetime
import gc
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

INSTALL_HINT = (
    "install them with: sudo sh scripts/install-peers.sh "
    "(Debian packages python3-torch python3-numpy libopenblas0-pthread), "
    "then run this script with /usr/bin/python3"
)


def import_peers():
    """Import numpy and torch, or exit with a message naming what is missing."""
    missing = []
    np = torch = None
    try:
        import numpy as np
    except ImportError as e:
        missing.append(("numpy", "python3-numpy", e))
    try:
        import torch
    except ImportError as e:
        missing.append(("torch", "python3-torch", e))
    if missing:
        for mod, pkg, e in missing:
            print(f"peers.py: Python module {mod!r} is missing (Debian package {pkg}): {e}",
                  file=sys.stderr)
        print(f"peers.py: interpreter is {sys.executable} (Python {platform.python_version()}); "
              + INSTALL_HINT, file=sys.stderr)
        sys.exit(2)
    return np, torch


# ---------------------------------------------------------------------------
# OpenBLAS: find the library torch loaded, to report its config and to set its
# thread count (torch.set_num_threads drives OpenMP; the pthread OpenBLAS keeps
# its own pool).

class OpenBLAS:
    def __init__(self):
        import ctypes
        self.lib = None
        self.path = None
        try:
            with open("/proc/self/maps") as f:
                paths = sorted({line.split()[-1] for line in f
                                if "openblas" in line.lower() and line.split()[-1].startswith("/")})
        except OSError:
            paths = []
        # Prefer the OpenBLAS library itself over Debian's libblas/liblapack shims.
        paths.sort(key=lambda p: (not os.path.basename(p).startswith("libopenblas"), p))
        for p in paths:
            try:
                lib = ctypes.CDLL(p)
                lib.openblas_get_config.restype = ctypes.c_char_p
                lib.openblas_get_num_threads.restype = ctypes.c_int
                lib.openblas_set_num_threads.argtypes = [ctypes.c_int]
                self.lib, self.path = lib, os.path.realpath(p)
                break
            except (OSError, AttributeError):
                continue

    def config(self):
        if self.lib is None:
            return "not loaded"
        return self.lib.openblas_get_config().decode(errors="replace").strip()

    def set_threads(self, n):
        if self.lib is not None:
            self.lib.openblas_set_num_threads(n)

    def threads(self):
        return self.lib.openblas_get_num_threads() if self.lib is not None else 0


# ---------------------------------------------------------------------------
# Ids from the Go side.

def repo_root():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.dirname(os.path.dirname(here))


def go_cpu_name():
    """The cpu line go test prints (Go reads the CPUID brand string), so both
    files name the machine alike; /proc/cpuinfo's model name otherwise."""
    if shutil.which("go"):
        r = subprocess.run(["go", "test", "-run", "^$", "-bench", "^BenchmarkCPUName$", "-benchtime", "1x",
                            "./bench/peers/dumpids"], cwd=repo_root(), capture_output=True, text=True)
        m = re.search(r"^cpu: (.*)$", r.stdout, re.M)
        if r.returncode == 0 and m and m.group(1).strip():
            return m.group(1).strip()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def git_commit():
    """HEAD, with "-dirty" when the tree has changes (as embgrad bench)."""
    try:
        r = subprocess.run(["git", "-C", repo_root(), "rev-parse", "HEAD"], capture_output=True, text=True)
        if r.returncode != 0:
            return "unknown (not a git checkout)"
        c = r.stdout.strip()
        st = subprocess.run(["git", "-C", repo_root(), "status", "--porcelain"], capture_output=True, text=True)
        return c + ("-dirty" if st.stdout.strip() else "")
    except OSError:
        return "unknown (no git)"


def sh_quote(a):
    return a if re.fullmatch(r"[\w@%+=:,./-]+", a) else "'" + a.replace("'", "'\\''") + "'"


def dump_ids(args):
    """Run the Go id dumper into a temporary directory; return the directory."""
    if shutil.which("go") is None:
        sys.exit("peers.py: `go` is not on PATH; run `go run ./bench/peers/dumpids -out DIR` "
                 "elsewhere and pass -ids DIR")
    d = tempfile.mkdtemp(prefix="embgrad-peers-ids-")
    cmd = ["go", "run", "./bench/peers/dumpids", "-out", d]
    if args.shapes:
        cmd += ["-shapes", args.shapes]
    if args.sparse:
        cmd += ["-sparse", args.sparse]
    print("peers.py: " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, cwd=repo_root())
    if r.returncode != 0:
        sys.exit(f"peers.py: {' '.join(cmd)} failed (exit {r.returncode})")
    return d


def load_manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        m = json.load(f)
    if m.get("format") != "embgrad-peers-ids/1":
        sys.exit(f"peers.py: {d}/manifest.json: unknown format {m.get('format')!r}")
    return m


def load_ids(np, d, entry):
    path = os.path.join(d, entry["file"])
    ids = np.fromfile(path, dtype="<i4")
    if ids.size != entry["N"]:
        sys.exit(f"peers.py: {path}: {ids.size} ids, manifest says N={entry['N']}")
    if ids.size and (ids.min() < 0 or ids.max() >= entry["V"]):
        sys.exit(f"peers.py: {path}: ids outside [0, {entry['V']})")
    return ids


# ---------------------------------------------------------------------------
# Validation against a float64 numpy reference.

U32 = 2.0 ** -24  # unit roundoff of float32


def gamma(np, k):
    k = np.asarray(k, dtype=np.float64)
    return k * U32 / (1 - k * U32)


class ValidationError(Exception):
    pass


def check_close(np, name, got, want, bound):
    got = np.asarray(got, dtype=np.float64)
    err = np.abs(got - want)
    bad = ~(err <= bound)  # NaN counts as bad
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err - bound, -np.inf)), err.shape)
        raise ValidationError(
            f"{name}: {int(bad.sum())} elements outside the rounding bound; "
            f"first worst at {i}: got {got[i]!r}, want {want[i]!r}, bound {bound[i]!r}")


class BackwardRef:
    """float64 reference for one (V, D, ids, gradOut): sums, |terms| sums, counts."""

    def __init__(self, np, V, D, ids, g):
        self.V, self.D = V, D
        order = np.argsort(ids, kind="stable")
        s = ids[order]
        rows, start = np.unique(s, return_index=True)
        g64 = g[order].astype(np.float64)
        self.rows = rows
        self.sum = np.add.reduceat(g64, start, axis=0) if len(rows) else np.zeros((0, D))
        self.abs = np.add.reduceat(np.abs(g64), start, axis=0) if len(rows) else np.zeros((0, D))
        self.count = np.diff(np.append(start, len(s))).astype(np.float64)[:, None]

    def check(self, np, name, dst, base):
        """dst should be base + backward; base is None for a scratch result."""
        dst = np.asarray(dst)
        if dst.shape != (self.V, self.D):
            raise ValidationError(f"{name}: result shape {dst.shape}, want {(self.V, self.D)}")
        touched = np.zeros(self.V, dtype=bool)
        touched[self.rows] = True
        if base is None:
            want_rows, abs_rows, k = self.sum, self.abs, self.count
            if np.any(dst[~touched] != 0):
                raise ValidationError(f"{name}: scratch result has non-zero untouched rows")
        else:
            b = base[self.rows].astype(np.float64)
            want_rows, abs_rows, k = b + self.sum, np.abs(b) + self.abs, self.count + 1
            if not np.array_equal(dst[~touched], base[~touched]):
                raise ValidationError(f"{name}: accumulate changed rows no id names")
        check_close(np, name, dst[self.rows], want_rows, gamma(np, k) * abs_rows)


# ---------------------------------------------------------------------------
# Timing.

class Timer:
    def __init__(self, benchtime_ns, count, warmup):
        self.benchtime_ns, self.count, self.warmup = benchtime_ns, count, warmup

    def run(self, fn):
        """Return [(iterations, elapsed_ns)] for count samples of fn()."""
        for _ in range(self.warmup):
            fn()
        t0 = time.perf_counter_ns()
        fn()
        one = max(time.perf_counter_ns() - t0, 1)
        n = max(1, min(int(math.ceil(self.benchtime_ns / one)), 1_000_000_000))
        out = []
        gc_was = gc.isenabled()
        gc.disable()
        try:
            for _ in range(self.count):
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    fn()
                out.append((n, time.perf_counter_ns() - t0))
        finally:
            if gc_was:
                gc.enable()
        return out


def parse_duration(s):
    m = re.fullmatch(r"([0-9.]+)(ns|us|µs|ms|s)", s)
    if not m:
        raise argparse.ArgumentTypeError(f"bad duration {s!r} (want e.g. 1s, 300ms)")
    scale = {"ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9}[m.group(2)]
    return int(float(m.group(1)) * scale)


# ---------------------------------------------------------------------------
# Peers.

def backward_peers(np, torch, V, D, ids64, g_np, g_t, idx_t):
    """Return [(impl, mode, make)] where make(dst_np_or_None) -> (fn, result())."""
    peers = []

    # torch-dense: aten.embedding_dense_backward(grad, indices, num_weights,
    # padding_idx, scale_grad_by_freq); padding_idx=-1 means none.
    # The ops that return their result keep it only when it is to be checked:
    # in the timed loop each result is dropped before the next call, as a
    # training step drops a consumed gradient.
    def dense_scratch(keep=True):
        box = [None]

        def fn():
            r = torch.ops.aten.embedding_dense_backward(g_t, idx_t, V, -1, False)
            if keep:
                box[0] = r
        return fn, lambda: box[0].numpy()
    peers.append(("torch-dense", "scratch", dense_scratch, False))

    def indexadd(mode):
        def make(dst_np):
            dst = torch.from_numpy(dst_np)
            if mode == "scratch":
                def fn():
                    dst.zero_()
                    dst.index_add_(0, idx_t, g_t)
            else:
                def fn():
                    dst.index_add_(0, idx_t, g_t)
            return fn, lambda: dst_np
        return make
    peers.append(("torch-indexadd", "scratch", indexadd("scratch"), True))
    peers.append(("torch-indexadd", "accumulate", indexadd("accumulate"), True))

    def sparse_scratch(keep=True):
        box = [None]

        def fn():
            r = torch.ops.aten.embedding_sparse_backward(g_t, idx_t, V, -1, False).coalesce()
            if keep:
                box[0] = r
        return fn, lambda: box[0].to_dense().numpy()
    peers.append(("torch-sparse", "scratch", sparse_scratch, False))

    def sparse_accumulate(dst_np):
        dst = torch.from_numpy(dst_np)

        def fn():
            dst.add_(torch.ops.aten.embedding_sparse_backward(g_t, idx_t, V, -1, False))
        return fn, lambda: dst_np
    peers.append(("torch-sparse", "accumulate", sparse_accumulate, True))

    def addat(mode):
        def make(dst):
            if mode == "scratch":
                def fn():
                    dst.fill(0)
                    np.add.at(dst, ids64, g_np)
            else:
                def fn():
                    np.add.at(dst, ids64, g_np)
            return fn, lambda: dst
        return make
    peers.append(("numpy-addat", "scratch", addat("scratch"), True))
    peers.append(("numpy-addat", "accumulate", addat("accumulate"), True))

    def sorted_(mode):
        def make(dst):
            def fn():
                order = np.argsort(ids64, kind="stable")
                s = ids64[order]
                rows, start = np.unique(s, return_index=True)
                sums = np.add.reduceat(g_np[order], start, axis=0)
                if mode == "scratch":
                    dst.fill(0)
                    dst[rows] = sums
                else:
                    dst[rows] += sums
            return fn, lambda: dst
        return make
    peers.append(("numpy-sorted", "scratch", sorted_("scratch"), True))
    peers.append(("numpy-sorted", "accumulate", sorted_("accumulate"), True))
    return peers


STEP_LR = 0.01


def sparse_peers(torch, V, g_t, idx_t):
    """Return {impl: make}, make() -> (fn, result()) with result() = (rows, values)."""
    def coalesce(keep=True):
        box = [None]

        def fn():
            r = torch.ops.aten.embedding_sparse_backward(g_t, idx_t, V, -1, False).coalesce()
            if keep:
                box[0] = r
        return fn, lambda: (box[0].indices()[0].numpy(), box[0].values().numpy())
    return {"torch-sparse-coalesce": coalesce}


def step_peers(torch, V, D, N, g_t, idx_t):
    """Return [(impl, optim, make, gb)]: make(w_np) -> fn, one gradient and
    optimizer step on the table w_np (updated in place); gb estimates the
    GB of tensors alive during a step."""
    vd = 4 * V * D / 1e9
    nd = 4 * N * D / 1e9

    def make_step(sparse, optim):
        def make(w_np):
            W = torch.nn.Parameter(torch.from_numpy(w_np))  # shares w_np's memory
            if optim == "sgd":
                opt = torch.optim.SGD([W], lr=STEP_LR)
            elif optim == "adagrad":
                opt = torch.optim.Adagrad([W], lr=STEP_LR)
            else:
                opt = torch.optim.SparseAdam([W], lr=STEP_LR)
            backward = (torch.ops.aten.embedding_sparse_backward if sparse
                        else torch.ops.aten.embedding_dense_backward)

            def fn():
                W.grad = backward(g_t, idx_t, V, -1, False)
                opt.step()
                W.grad = None  # zero_grad(set_to_none=True)
            return fn
        return make
    return [
        ("torch-dense-sgd", "sgd", make_step(False, "sgd"), 2 * vd + nd),
        ("torch-dense-adagrad", "adagrad", make_step(False, "adagrad"), 4 * vd + nd),
        ("torch-sparse-sgd", "sgd", make_step(True, "sgd"), vd + 3 * nd),
        ("torch-sparse-adam", "adam", make_step(True, "adam"), 3 * vd + 4 * nd),
    ]


def step_check(np, name, optim, w0, w1, ref):
    """w1 should be one step of optim from w0 with the gradient ref (float64)."""
    touched = np.zeros(w0.shape[0], dtype=bool)
    touched[ref.rows] = True
    if not np.array_equal(w1[~touched], w0[~touched]):
        raise ValidationError(f"{name}: the step changed rows no id names")
    g, eg = ref.sum, gamma(np, ref.count) * ref.abs  # the gradient and its error bound
    w = w0[ref.rows].astype(np.float64)
    if optim == "sgd":
        want = w - STEP_LR * g
        # torch-sparse-sgd adds each occurrence's −lr·g_i into w uncoalesced:
        # a sum of count+1 terms, whose bound covers the coalesced order too.
        bound = 2 * gamma(np, ref.count + 2) * (np.abs(w) + STEP_LR * ref.abs)
    else:
        if optim == "adagrad":  # state_sum = g², w -= lr·g/(sqrt(state_sum) + 1e-10)
            upd = STEP_LR * g / (np.abs(g) + 1e-10)
        else:  # SparseAdam, step 1: m = 0.1·g, v = 0.001·g², bias-corrected
            bc1, bc2 = 1 - 0.9, 1 - 0.999
            upd = STEP_LR * math.sqrt(bc2) / bc1 * (bc1 * g) / (np.sqrt(bc2 * g * g) + 1e-8)
        want = w - upd
        # |d upd/dg| ≤ lr·eps/(|g|+eps)² ≤ lr/|g|: the gradient's error moves
        # the update by at most lr·eg/|g|; plus the float32 roundings.
        bound = STEP_LR * np.minimum(eg / np.maximum(np.abs(g), 1e-30), 2) + 16 * U32 * (np.abs(w) + STEP_LR)
    check_close(np, name, w1[ref.rows], want, bound)


def parallel_backend(torch):
    m = re.search(r"ATen parallel backend: *(.+)", torch.__config__.parallel_info())
    return f"parallel backend {m.group(1).strip()}" if m else "parallel backend ?"


def deb_version(pkg):
    """' (Debian pkg version)' for an installed Debian package, else ''."""
    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                           capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    if r.returncode != 0 or not r.stdout.strip():
        return ""
    return f" (Debian {pkg} {r.stdout.strip()})"


def alloc_probe(torch, V, D, reps=5):
    """Medians of torch.zeros(V, D) — the fresh table torch-dense allocates
    and clears on every call — against zero_() of a resident one: a line of
    wall ms, CPU ms and page faults for each."""
    import resource

    def med(fn):
        w, c, f = [], [], []
        for _ in range(reps):
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter_ns()
            fn()
            w.append((time.perf_counter_ns() - t0) / 1e6)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            c.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
            f.append(r1.ru_minflt - r0.ru_minflt)
        m = len(w) // 2
        return f"{sorted(w)[m]:.1f} ms wall, {sorted(c)[m]:.1f} ms CPU, {sorted(f)[m]} page faults"
    x = torch.empty(V, D)
    x.zero_()
    return med(lambda: torch.zeros(V, D)), med(lambda: x.zero_())


def pretty(x):
    """A metric value as Go's testing package prints it (prettyPrint)."""
    if x == 0:
        return "0"
    a = abs(x)
    for lim, prec in ((99.995, 0), (9.9995, 1), (0.99995, 2), (0.099995, 3),
                      (0.0099995, 4), (0.00099995, 5), (0.000099995, 6)):
        if a >= lim:
            return f"{x:.{prec}f}"
    return f"{x:.7f}"


def fmt_line(name, procs, n, ns, bytes_per_op, extra):
    """One result line in the layout of `go test -bench` output."""
    nsop = ns / n
    cols = [f"{name}-{procs}", f"{n:8d}", f"{pretty(nsop):>10} ns/op"]
    if bytes_per_op:
        cols.append(f"{bytes_per_op / nsop * 1e9 / 1e6:8.2f} MB/s")
    for unit, per_op in extra:
        cols.append(f"{pretty(per_op / nsop * 1e9)} {unit}")
    return "\t".join(cols)


def main():
    ap = argparse.ArgumentParser(
        description="PyTorch/numpy peers on embgrad's benchmark matrix, in Go benchmark format.")
    ap.add_argument("-o", "-out", dest="out", default="-",
                    help="output file (default stdout); progress goes to stderr")
    ap.add_argument("-ids", default="",
                    help="directory from `go run ./bench/peers/dumpids -out DIR` "
                         "(default: run it into a temporary directory)")
    ap.add_argument("-shapes", default="",
                    help="passed to dumpids -shapes when peers.py runs it (default: dumpids' default)")
    ap.add_argument("-shape", default="", help="regexp on shape name (e.g. gpt2) or V=…/D=…")
    ap.add_argument("-dist", default="", help="regexp on dist (uniform|zipf|same|text)")
    ap.add_argument("-mode", default="", help="regexp on mode (scratch|accumulate)")
    ap.add_argument("-impl", default="", help="regexp on impl (e.g. torch-dense|numpy-addat)")
    ap.add_argument("-workers", default="1,2",
                    help="comma-separated thread counts for torch/OpenBLAS (default 1,2; numpy runs at 1)")
    ap.add_argument("-procs", type=int, default=len(os.sched_getaffinity(0)),
                    help="the -P suffix of the names, Go's GOMAXPROCS (default: CPUs available, %(default)s)")
    ap.add_argument("-tied", default="", help="comma-separated T for the tied matmul "
                    "(default: the manifest's; 'none' to skip)")
    ap.add_argument("-count", type=int, default=10, help="samples per benchmark (like go test -count)")
    ap.add_argument("-benchtime", type=parse_duration, default=parse_duration("1s"),
                    help="minimum time per sample (like go test -benchtime; default 1s)")
    ap.add_argument("-warmup", type=int, default=2, help="untimed calls before each benchmark")
    ap.add_argument("-seed", type=int, default=1, help="seed of the random gradOut/dZ/H values")
    ap.add_argument("-variant", default="",
                    help="append -VARIANT to every impl name, to tell a run under another environment apart "
                         "(e.g. -variant reuse: impl=torch-dense-reuse)")
    ap.add_argument("-sparse", default="none",
                    help="passed to dumpids -sparse when peers.py runs it: the BenchmarkSparse/BenchmarkStep "
                         "inputs (none, all, sweep, or names such as gpt2,v1e4; default none)")
    ap.add_argument("-families", default="backward,tied,sparse,step",
                    help="comma-separated families to run (default all the manifest has inputs for)")
    ap.add_argument("-max-gb", dest="max_gb", type=float, default=8,
                    help="skip a step peer whose tensors would take more GB than this (default 8)")
    ap.add_argument("-check", action="store_true",
                    help="only check that numpy and torch import; print their versions")
    args = ap.parse_args()
    args.suffix = "-" + args.variant if args.variant else ""

    np, torch = import_peers()
    if args.check:
        print(f"peers.py: {sys.executable}: torch {torch.__version__}, numpy {np.__version__}",
              file=sys.stderr)
        return
    blas = OpenBLAS()

    ids_dir = args.ids or dump_ids(args)
    man = load_manifest(ids_dir)
    threads = [int(t) for t in args.workers.split(",") if t]
    timer = Timer(args.benchtime, args.count, args.warmup)
    re_shape, re_dist, re_mode, re_impl = (re.compile(x) for x in
                                           (args.shape, args.dist, args.mode, args.impl))

    out = sys.stdout if args.out == "-" else open(args.out + ".tmp", "w")

    def emit(line=""):
        print(line, file=out, flush=True)

    # Config lines (benchfmt keys: lower case, no spaces), with the keys
    # embgrad bench writes (commit, go, gomaxprocs, date, loadavg, benchtime,
    # shapes, command, cpu) so embgrad report lists both files alike.
    loadavg = ""
    try:
        with open("/proc/loadavg") as f:
            loadavg = " ".join(f.read().split()[:3])
    except OSError:
        pass
    cpu = go_cpu_name()
    torch_blas = ""
    m = re.search(r"BLAS_INFO=(\S+?),", torch.__config__.show())
    if m:
        torch_blas = m.group(1)
    emit("goos: linux" if sys.platform.startswith("linux") else f"goos: {sys.platform}")
    emit(f"goarch: {'amd64' if platform.machine() in ('x86_64', 'AMD64') else platform.machine()}")
    emit("pkg: github.com/embgrad/embgrad/bench")
    if cpu:
        emit(f"cpu: {cpu}")
    emit(f"commit: {git_commit()}")
    if shutil.which("go"):
        r = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            emit(f"go: {r.stdout.strip()} (made the ids; the peers are not Go)")
    emit(f"gomaxprocs: {args.procs}")
    emit(f"date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if loadavg:
        emit(f"loadavg: {loadavg}")
    emit(f"benchtime: {args.benchtime / 1e9:g}s")
    if args.shapes or not args.ids:
        emit(f"shapes: {args.shapes or 'default'}")
    emit(f"command: {' '.join(['/usr/bin/python3' if sys.executable == '/usr/bin/python3' else sys.executable] + [sh_quote(a) for a in sys.argv])}")
    emit(f"peers-python: {platform.python_version()} ({sys.executable})")
    emit(f"peers-torch: {torch.__version__}{deb_version('python3-torch')} (BLAS_INFO={torch_blas or '?'}, "
         f"{parallel_backend(torch)})")
    emit(f"peers-numpy: {np.__version__}{deb_version('python3-numpy')}")
    emit(f"peers-blas: {blas.config()} ({blas.path or 'no OpenBLAS mapped'}{deb_version('libopenblas0-pthread')})")
    envs = [f"{k}={os.environ[k]}" for k in sorted(os.environ)
            if k.startswith(("OPENBLAS_", "MALLOC_", "GLIBC_TUNABLES", "LD_PRELOAD"))
            or k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GOMAXPROCS")]
    emit(f"peers-env: {' '.join(envs) if envs else '(no OPENBLAS_*/MALLOC_*/OMP_NUM_THREADS set)'}")
    if args.variant:
        emit(f"peers-variant: impl names end in -{args.variant}, for this run's environment (peers-env)")
    emit(f"peers-timing: warmup={args.warmup} count={args.count} benchtime={args.benchtime / 1e9:g}s "
         f"(n calls per sample chosen from one timed call after warm-up)")
    emit(f"peers-threads: workers=W is torch.set_num_threads(W) and openblas_set_num_threads(W); "
         f"numpy is single-threaded for these ops (workers=1 only); -{args.procs} suffix = CPUs available "
         f"(Go's GOMAXPROCS)")
    emit(f"peers-ids: {man.get('source', 'bench')} (int32 ids widened to int64 outside the loop)")
    emit(f"peers-bytes: {man.get('bytes_model', 'from manifest')}")
    for (V, D) in sorted({(e["V"], e["D"]) for e in man["backward"]
                          if re_shape.search(e["shape"]) or re_shape.search(f"V={e['V']}/D={e['D']}")}):
        if not re_impl.search("torch-dense") or "backward" not in args.families.split(","):
            break
        torch.set_num_threads(max(threads))
        fresh, resident = alloc_probe(torch, V, D)
        emit(f"peers-alloc-V{V}-D{D}: medians of 5 at {max(threads)} threads: torch.zeros(V,D) "
             f"(what torch-dense allocates per call) {fresh}; zero_() of a resident table {resident}")
    emit("Unit tokens/s better=higher")
    emit("Unit B/s better=higher")
    emit("Unit GFLOP/s better=higher")
    emit("")

    # Plan the benchmarks so progress can show an ETA.
    families = set(args.families.split(","))
    entries = [e for e in man["backward"]
               if (re_shape.search(e["shape"]) or re_shape.search(f"V={e['V']}/D={e['D']}"))
               and re_dist.search(e["dist"])] if "backward" in families else []
    sparse_entries = [e for e in man.get("sparse", [])
                      if (re_shape.search(e["shape"]) or re_shape.search(f"V={e['V']}/D={e['D']}"))
                      and re_dist.search(e["dist"])]
    sparse_impls = [i for i in ["torch-sparse-coalesce"] if re_impl.search(i)] if "sparse" in families else []
    step_impls = [i for i in ["torch-dense-sgd", "torch-dense-adagrad", "torch-sparse-sgd", "torch-sparse-adam"]
                  if re_impl.search(i)] if "step" in families else []
    rng = np.random.default_rng(args.seed)
    failures = []
    started = time.monotonic()
    done = 0
    total_est = None

    def progress(name):
        nonlocal done
        done += 1
        el = time.monotonic() - started
        eta = ""
        if total_est:
            eta = f", ETA {max(0, el / done * (total_est - done)) / 60:.1f} min"
        print(f"peers.py: [{done}/{total_est or '?'}] {name} ({el / 60:.1f} min{eta})",
              file=sys.stderr, flush=True)

    plans = []
    for e in entries:
        for impl, mode in [("torch-dense", "scratch"), ("torch-indexadd", "scratch"),
                           ("torch-indexadd", "accumulate"), ("torch-sparse", "scratch"),
                           ("torch-sparse", "accumulate"), ("numpy-addat", "scratch"),
                           ("numpy-addat", "accumulate"), ("numpy-sorted", "scratch"),
                           ("numpy-sorted", "accumulate")]:
            if mode in e["modes"] and re_mode.search(mode) and re_impl.search(impl):
                plans.append((e, impl, mode))

    def workers_for(impl):
        return [t for t in threads if t == 1] if impl.startswith("numpy-") else threads
    tied_ts = man.get("tied", [])
    if args.tied == "none":
        tied_ts = []
    elif args.tied:
        want = {int(t) for t in args.tied.split(",")}
        tied_ts = [t for t in man.get("tied", [])] + [
            {"V": man["tied"][0]["V"] if man.get("tied") else 50257,
             "D": man["tied"][0]["D"] if man.get("tied") else 768, "T": t}
            for t in sorted(want) if all(x["T"] != t for x in man.get("tied", []))]
        tied_ts = [t for t in tied_ts if t["T"] in want]
    if not re_impl.search("torch-matmul") or "tied" not in families:
        tied_ts = []
    total_est = (sum(len(workers_for(impl)) for _, impl, _ in plans) + len(threads) * len(tied_ts)
                 + len(sparse_entries) * len(threads) * (len(sparse_impls) + len(step_impls)))

    # Backward benchmarks, one (V, D, N, dist) input at a time.
    grads = {}
    for e in entries:
        mine = [(impl, mode) for (pe, impl, mode) in plans if pe is e]
        if not mine:
            continue
        V, D, N = e["V"], e["D"], e["N"]
        ids = load_ids(np, ids_dir, e)
        ids64 = ids.astype(np.int64)
        if (N, D) not in grads:
            grads.clear()
            grads[(N, D)] = (2 * rng.random((N, D), dtype=np.float32) - 1).astype(np.float32)
        g_np = grads[(N, D)]
        g_t = torch.from_numpy(g_np)
        idx_t = torch.from_numpy(ids64)
        ref = BackwardRef(np, V, D, ids64, g_np)
        base = rng.standard_normal((V, D), dtype=np.float32)
        peers = {(impl, mode): (make, takes_dst)
                 for impl, mode, make, takes_dst in backward_peers(np, torch, V, D, ids64, g_np, g_t, idx_t)}
        bytes_op = e["bytes"]
        for t in threads:
            torch.set_num_threads(t)
            blas.set_threads(t)
            for impl, mode in mine:
                if t not in workers_for(impl):
                    continue
                make, takes_dst = peers[(impl, mode)]
                name = (f"BenchmarkBackward/impl={impl}{args.suffix}/V={V}/D={D}/N={N}/"
                        f"dist={e['dist']}/mode={mode}/workers={t}")
                # Validate once (per thread count: torch may take other paths).
                try:
                    if takes_dst:
                        dst = base.copy()
                        fn, result = make(dst)
                        fn()
                        ref.check(np, name, result(), None if mode == "scratch" else base)
                    else:
                        fn, result = make()
                        fn()
                        ref.check(np, name, result(), None)
                except ValidationError as err:
                    failures.append(str(err))
                    print(f"peers.py: VALIDATION FAILED, no numbers posted: {err}",
                          file=sys.stderr, flush=True)
                    progress(name)
                    continue
                # Time on a fresh destination (accumulate keeps adding into it).
                if takes_dst:
                    dst = np.zeros((V, D), dtype=np.float32)
                    fn, _ = make(dst)
                else:
                    fn, _ = make(keep=False)
                for n, ns in timer.run(fn):
                    emit(fmt_line(name, args.procs, n, ns, bytes_op[mode], [("tokens/s", N)]))
                del fn
                progress(name)
        del ref, base, peers

    # Tied output part: dst += dZᵀ·H via OpenBLAS sgemm (beta=1).
    for te in tied_ts:
        V, D, T = te["V"], te["D"], te["T"]
        # Uniform in ±1 like bench/tied_test.go's tiedInputs.
        dZ = (2 * rng.random((T, V), dtype=np.float32) - 1).astype(np.float32)
        H = (2 * rng.random((T, D), dtype=np.float32) - 1).astype(np.float32)
        base = rng.standard_normal((V, D), dtype=np.float32)
        want = base.astype(np.float64) + dZ.T.astype(np.float64) @ H.astype(np.float64)
        bound = gamma(np, T + 1) * (np.abs(base).astype(np.float64)
                                    + np.abs(dZ.T).astype(np.float64) @ np.abs(H).astype(np.float64))
        dZ_t, H_t = torch.from_numpy(dZ), torch.from_numpy(H)
        for t in threads:
            torch.set_num_threads(t)
            blas.set_threads(t)
            name = f"BenchmarkTied/impl=torch-matmul{args.suffix}/V={V}/D={D}/T={T}"
            dst = base.copy()
            dst_t = torch.from_numpy(dst)
            dst_t.addmm_(dZ_t.t(), H_t)
            try:
                check_close(np, name, dst, want, bound)
            except ValidationError as err:
                failures.append(str(err))
                print(f"peers.py: VALIDATION FAILED, no numbers posted: {err}",
                      file=sys.stderr, flush=True)
                progress(name)
                continue
            dst_t.zero_()

            def fn():
                dst_t.addmm_(dZ_t.t(), H_t)
            for n, ns in timer.run(fn):
                emit(fmt_line(name, t, n, ns, 0, [("GFLOP/s", 2 * V * D * T / 1e9)]))
            progress(name)
        del want, bound, base

    # Sparse backward and optimizer steps, one (V, D, N, dist) input at a time.
    for e in sparse_entries if sparse_impls or step_impls else []:
        V, D, N = e["V"], e["D"], e["N"]
        ids64 = load_ids(np, ids_dir, e).astype(np.int64)
        g_np = (2 * rng.random((N, D), dtype=np.float32) - 1).astype(np.float32)
        g_t, idx_t = torch.from_numpy(g_np), torch.from_numpy(ids64)
        ref = BackwardRef(np, V, D, ids64, g_np)
        sp = sparse_peers(torch, V, g_t, idx_t)
        steps = [st for st in step_peers(torch, V, D, N, g_t, idx_t) if st[0] in step_impls]
        for t in threads:
            torch.set_num_threads(t)
            blas.set_threads(t)
            for impl in sparse_impls:
                name = f"BenchmarkSparse/impl={impl}{args.suffix}/V={V}/D={D}/N={N}/dist={e['dist']}/workers={t}"
                try:
                    fn, result = sp[impl]()
                    fn()
                    rows, vals = result()
                    if not np.array_equal(rows, ref.rows):
                        raise ValidationError(f"{name}: coalesced rows differ from the distinct ids")
                    check_close(np, name, vals, ref.sum, gamma(np, ref.count) * ref.abs)
                except ValidationError as err:
                    failures.append(str(err))
                    print(f"peers.py: VALIDATION FAILED, no numbers posted: {err}", file=sys.stderr, flush=True)
                    progress(name)
                    continue
                del fn, result
                fn, _ = sp[impl](keep=False)
                for n, ns in timer.run(fn):
                    emit(fmt_line(name, args.procs, n, ns, e["bytes"], [("tokens/s", N)]))
                del fn
                progress(name)
            for impl, optim, make, gb in steps:
                name = (f"BenchmarkStep/impl={impl}{args.suffix}/V={V}/D={D}/N={N}/dist={e['dist']}/"
                        f"optim={optim}/workers={t}")
                if gb > args.max_gb:
                    print(f"peers.py: skipping {name}: about {gb:.1f} GB of tensors, above -max-gb {args.max_gb:g}",
                          file=sys.stderr, flush=True)
                    progress(name)
                    continue
                w0 = rng.standard_normal((V, D), dtype=np.float32)
                w = w0.copy()
                try:
                    fn = make(w)
                    fn()
                    step_check(np, name, optim, w0, w, ref)
                except ValidationError as err:
                    failures.append(str(err))
                    print(f"peers.py: VALIDATION FAILED, no numbers posted: {err}", file=sys.stderr, flush=True)
                    progress(name)
                    continue
                del w0
                for n, ns in timer.run(fn):  # keeps stepping the same table and optimizer state
                    emit(fmt_line(name, args.procs, n, ns, 0, [("tokens/s", N)]))
                del fn, w
                gc.collect()
                progress(name)
        del ref

    if out is not sys.stdout:
        out.close()
        if failures:
            print(f"peers.py: leaving partial results in {args.out}.tmp", file=sys.stderr)
        else:
            os.replace(args.out + ".tmp", args.out)
            print(f"peers.py: wrote {args.out}", file=sys.stderr)
    if failures:
        print(f"peers.py: {len(failures)} peer(s) failed validation:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        sys.exit(1)
    if not args.ids:
        shutil.rmtree(ids_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
