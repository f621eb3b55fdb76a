#!/usr/bin/python3
"""PyTorch's CPU aten.embedding_dense_backward on 16-bit gradients, for
embgrad's 16-bit error study (bench/internal/halfstudy, results/half/ERROR.md).

Usage: half_error.py DIR
DIR holds cases written by the study: for each case NAME, NAME.json
({"format": "bf16"|"f16", "V": int, "D": int, "N": int}), NAME.ids (int64
little-endian, N) and NAME.grad (uint16 bit patterns, N*D). The script writes
NAME.torch (uint16, V*D): the gradient in gradOut's dtype, as torch returns
it (torch accumulates in that dtype). Run with Debian's /usr/bin/python3.
"""
import json
import os
import sys

import numpy as np
import torch


def main():
    d = sys.argv[1]
    torch.set_num_threads(1)
    for f in sorted(os.listdir(d)):
        if not f.endswith(".json"):
            continue
        name = f[:-5]
        with open(os.path.join(d, f)) as fh:
            c = json.load(fh)
        dtype = {"bf16": torch.bfloat16, "f16": torch.float16}[c["format"]]
        ids = torch.from_numpy(np.fromfile(os.path.join(d, name + ".ids"), dtype="<i8"))
        g = np.fromfile(os.path.join(d, name + ".grad"), dtype="<u2").astype(np.int16)
        grad = torch.from_numpy(g).view(dtype).reshape(c["N"], c["D"])
        out = torch.ops.aten.embedding_dense_backward(grad, ids, c["V"], -1, False)
        assert out.dtype == dtype, out.dtype
        out.contiguous().view(torch.int16).numpy().astype("<u2").tofile(os.path.join(d, name + ".torch"))
    print("torch", torch.__version__)


if __name__ == "__main__":
    main()
