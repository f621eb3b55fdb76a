#!/usr/bin/env python3
"""bag.py: PyTorch's CPU embedding_bag backward on BenchmarkBag's inputs.

Times, for every bench.BagShapes shape (ids from `go run
./bench/peers/dumpbags`, the Go benchmark's own), the two ops autograd runs
for nn.EmbeddingBag's backward on CPU with a dense gradient:

    torch.ops.aten._embedding_bag_backward(grad, indices, offsets, offset2bag,
        bag_size, max_indices, V, False, mode, False, per_sample_weights, -1)
    # weighted: also the weights' gradient
    torch.ops.aten._embedding_bag_per_sample_weights_backward(grad, weight,
        indices, offsets, offset2bag, 0, -1)

with offset2bag, bag_size and max_indices from one untimed forward
(torch.ops.aten._embedding_bag; in sum mode its offset2bag is empty and
_embedding_bag_backward builds it, as under autograd). It dispatches to
_embedding_bag_dense_backward (sparse=False). Each call returns a fresh V×D table, so
the matching Go benchmarks are dst=scratch. Lines are printed in Go's
benchmark format:

    BenchmarkBag/impl=torch-bag/V=/D=/B=/L=/dist=/mode=sum|mean|max/dst=scratch/weights=none|random/workers=W-P

With -variant reuse the impl is torch-bag-reuse: run it under
MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=17179869184
MALLOC_TOP_PAD_=536870912 (as run.sh does for torch-dense-reuse), so glibc
keeps the freed table and the next call reuses its resident pages instead of
faulting in a new mapping. The output says which environment it ran in.

B/s is the Go bytes model (bench.BagBytes, from the manifest); tokens/s is
ids per second. Before timing, each op's result is checked once against a
float64 numpy reference on the touched rows (every other row must be 0).

    /usr/bin/python3 bench/peers/bag.py -o results/bag/torch.txt
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import json

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402  (helpers: Timer, fmt_line, import_peers, ...)

MODES = {"sum": 0, "mean": 1, "max": 2}
VARIANTS = [("sum", False), ("sum", True), ("mean", False), ("max", False)]


def dump(args):
    d = tempfile.mkdtemp(prefix="embgrad-bag-ids-")
    cmd = ["go", "run", "./bench/peers/dumpbags", "-out", d]
    print("bag.py: " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, cwd=peers.repo_root())
    if r.returncode != 0:
        sys.exit(f"bag.py: {' '.join(cmd)} failed (exit {r.returncode})")
    return d


def check(np, name, got, ids, L, D, mode, grad, max_idx, w):
    """got (V×D torch) against the float64 backward on the touched rows."""
    got = got.numpy()
    rows, inv = np.unique(ids, return_inverse=True)
    want = np.zeros((rows.size, D))
    mag = np.zeros((rows.size, D))
    cnt = np.zeros((rows.size, D))
    g = grad.numpy().astype(np.float64)
    bag = np.arange(ids.size) // L
    if mode == "max":
        m = max_idx.numpy()
        r = np.searchsorted(rows, m)
        for j in range(D):
            np.add.at(want[:, j], r[:, j], g[:, j])
            np.add.at(mag[:, j], r[:, j], np.abs(g[:, j]))
            np.add.at(cnt[:, j], r[:, j], 1)
    else:
        s = np.ones(ids.size)
        if w is not None:
            s = w.numpy().astype(np.float64)
        if mode == "mean":
            s = s / L
        t = s[:, None] * g[bag]
        np.add.at(want, inv, t)
        np.add.at(mag, inv, np.abs(t))
        np.add.at(cnt, inv, 1)
    u = 2.0 ** -24
    bound = (cnt + 3) * u / (1 - (cnt + 3) * u) * mag
    diff = np.abs(got[rows].astype(np.float64) - want)
    if (diff > bound).any():
        k = np.argwhere(diff > bound)[0]
        raise SystemExit(f"bag.py: {name}: row {rows[k[0]]} col {k[1]}: got {got[rows[k[0]], k[1]]}, "
                         f"want {want[k[0], k[1]]} (bound {bound[k[0], k[1]]:.3g})")
    mask = np.ones(got.shape[0], bool)
    mask[rows] = False
    if got[mask].any():
        raise SystemExit(f"bag.py: {name}: rows no id names are not zero")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", dest="out", default="-", help="output file (default stdout)")
    ap.add_argument("-ids", default="", help="directory from dumpbags (default: run it)")
    ap.add_argument("-shape", default="", help="regexp on shape name (recsys-L20, text, ...)")
    ap.add_argument("-mode", default="", help="regexp on mode (sum|mean|max)")
    ap.add_argument("-weights", default="", help="regexp on weights (none|random)")
    ap.add_argument("-workers", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument("-procs", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("-count", type=int, default=10)
    ap.add_argument("-benchtime", type=peers.parse_duration, default=peers.parse_duration("100ms"))
    ap.add_argument("-warmup", type=int, default=2)
    ap.add_argument("-variant", default="", help='"reuse": impl torch-bag-reuse (run with the MALLOC_* settings)')
    args = ap.parse_args()
    np, torch = peers.import_peers()
    d = args.ids or dump(args)
    with open(os.path.join(d, "manifest.json")) as f:
        man = json.load(f)
    if man.get("format") != "embgrad-bag-ids/1":
        sys.exit(f"bag.py: {d}/manifest.json: unknown format {man.get('format')!r}")
    impl = "torch-bag" + (f"-{args.variant}" if args.variant else "")
    threads = [int(t) for t in args.workers.split(",") if t]
    timer = peers.Timer(args.benchtime, args.count, args.warmup)
    out = sys.stdout if args.out == "-" else open(args.out, "w")

    def emit(line=""):
        print(line, file=out, flush=True)

    with open("/proc/loadavg") as f:
        loadavg = " ".join(f.read().split()[:3])
    emit("goos: linux")
    emit("goarch: amd64" if platform.machine() == "x86_64" else f"goarch: {platform.machine()}")
    emit("pkg: github.com/embgrad/embgrad/bench")
    if peers.go_cpu_name():
        emit(f"cpu: {peers.go_cpu_name()}")
    emit(f"commit: {peers.git_commit()}")
    emit(f"gomaxprocs: {args.procs}")
    emit(f"date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    emit(f"loadavg: {loadavg}")
    emit(f"command: {' '.join([sys.executable] + [peers.sh_quote(a) for a in sys.argv])}")
    emit(f"peers-torch: {torch.__version__}{peers.deb_version('python3-torch')} ({peers.parallel_backend(torch)})")
    envs = [f"{k}={os.environ[k]}" for k in sorted(os.environ) if k.startswith(("MALLOC_", "OMP_"))]
    emit(f"peers-env: {' '.join(envs) if envs else '(no MALLOC_*/OMP_* set: default allocator)'}")
    emit("peers-bag: _embedding_bag_backward, dense (+ _embedding_bag_per_sample_weights_backward when weighted), "
         "int64 indices and offsets, a fresh V×D gradient per call (compare with dst=scratch)")
    emit()
    re_shape, re_mode, re_w = re.compile(args.shape), re.compile(args.mode), re.compile(args.weights)
    gen = torch.Generator().manual_seed(1)
    for s in man["shapes"]:
        if not re_shape.search(s["name"]):
            continue
        V, D, B, L = s["V"], s["D"], s["B"], s["L"]
        ids = np.fromfile(os.path.join(d, s["file"]), dtype="<i4")
        if ids.size != B * L:
            sys.exit(f"bag.py: {s['file']}: {ids.size} ids, want B*L = {B * L}")
        idx = torch.from_numpy(ids.astype(np.int64))
        offs = torch.arange(B, dtype=torch.int64) * L
        weight = torch.rand(V, D, generator=gen) * 2 - 1
        grad = torch.rand(B, D, generator=gen) * 2 - 1
        psw_all = torch.rand(B * L, generator=gen) * 2 - 1
        for mode, weighted in VARIANTS:
            ws = "random" if weighted else "none"
            if not re_mode.search(mode) or not re_w.search(ws):
                continue
            psw = psw_all if weighted else None
            m = MODES[mode]
            _, o2b, bag_size, max_idx = torch.ops.aten._embedding_bag(weight, idx, offs, False, m, False, psw, False, -1)

            def fn():
                r = torch.ops.aten._embedding_bag_backward(grad, idx, offs, o2b, bag_size, max_idx, V, False, m, False, psw, -1)
                if weighted:
                    torch.ops.aten._embedding_bag_per_sample_weights_backward(grad, weight, idx, offs, o2b, m, -1)
                return r

            nbytes = s["bytes"][f"{mode}/scratch/{ws}"]
            for t in threads:
                torch.set_num_threads(t)
                name = (f"BenchmarkBag/impl={impl}/V={V}/D={D}/B={B}/L={L}/dist={s['dist']}/mode={mode}"
                        f"/dst=scratch/weights={ws}/workers={t}")
                check(np, name, fn(), ids, L, D, mode, grad, max_idx, psw)
                for n, ns in timer.run(fn):
                    emit(peers.fmt_line(name, args.procs, n, ns, nbytes, [("tokens/s", B * L)]))
    if out is not sys.stdout:
        out.close()
    if not args.ids:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
