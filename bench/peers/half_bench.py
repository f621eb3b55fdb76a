#!/usr/bin/python3
"""PyTorch's CPU aten.embedding_dense_backward on bfloat16 and float16
gradients, on the token ids of embgrad's benchmarks, printed as
BenchmarkBackward16 lines (bench/half_test.go's names and bytes model) so
benchstat puts them beside embgrad's 16-bit kernels.

    /usr/bin/python3 bench/peers/half_bench.py -shapes gpt2 -dists zipf -count 6

impl=torch-dense mode=scratch is the op alone (a fresh V×D table of
gradOut's dtype, accumulated in that dtype); mode=accumulate adds it into a
resident 16-bit table (dst.add_(op(...))), as .grad accumulation does. One
thread (workers=1, as embgrad's 16-bit kernels are serial). Uses peers.py's
id dumper and loader, so the ids are those of the Go benchmarks.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-shapes", default="gpt2")
    ap.add_argument("-dists", default="zipf")
    ap.add_argument("-count", type=int, default=6)
    ap.add_argument("-iters", type=int, default=20)
    ap.add_argument("-ids", default="", help="directory from bench/peers/dumpids (default: run it)")
    args = ap.parse_args()
    import numpy as np
    import torch
    torch.set_num_threads(1)
    d = args.ids or peers.dump_ids(argparse.Namespace(shapes=args.shapes))
    m = peers.load_manifest(d)
    dists = set(args.dists.split(","))
    print("goos: linux\ngoarch: amd64\npkg: github.com/embgrad/embgrad/bench")
    print(f"# torch {torch.__version__}, threads 1")
    for e in m["backward"]:
        if e["dist"] not in dists:
            continue
        V, D, N = e["V"], e["D"], e["N"]
        ids = torch.from_numpy(peers.load_ids(np, d, e).astype(np.int64))
        U = int(torch.unique(ids).numel())
        rng = np.random.default_rng(1)
        g32 = torch.from_numpy((2 * rng.random((N, D), dtype=np.float32) - 1))
        for name, dtype in (("bf16", torch.bfloat16), ("f16", torch.float16)):
            g = g32.to(dtype)
            dst = torch.zeros(V, D, dtype=dtype)
            for mode in ("scratch", "accumulate"):
                if mode == "scratch":
                    def fn():
                        torch.ops.aten.embedding_dense_backward(g, ids, V, -1, False)
                    nbytes = 2 * N * D + 4 * N + 2 * V * D
                else:
                    def fn():
                        dst.add_(torch.ops.aten.embedding_dense_backward(g, ids, V, -1, False))
                    nbytes = 2 * N * D + 4 * N + 4 * U * D
                fn()
                bname = (f"BenchmarkBackward16/impl=torch-dense/V={V}/D={D}/N={N}/dist={e['dist']}"
                         f"/mode={mode}/dtype={name}/dst=16")
                for _ in range(args.count):
                    t0 = time.perf_counter_ns()
                    for _ in range(args.iters):
                        fn()
                    ns = time.perf_counter_ns() - t0
                    print(peers.fmt_line(bname, 2, args.iters, ns, nbytes, [("tokens/s", N)]), flush=True)


if __name__ == "__main__":
    main()
