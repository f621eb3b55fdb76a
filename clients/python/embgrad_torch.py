"""PyTorch kernels for embgrad's process protocol (see embgrad_kernel.py).

    embgrad verify -exec '/usr/bin/python3 clients/python/embgrad_torch.py --kernel dense-backward'

Kernels (--kernel):

  dense-backward  torch.ops.aten.embedding_dense_backward(grad, indices,
                  V, padding_idx, scale_grad_by_freq): a fresh V×D gradient,
                  whose rows that ids name are added into dst (adding the
                  whole fresh table would add +0 to the other rows and turn a
                  -0 there into +0, which the contract forbids).
  dense-backward-whole  the same, but dst += the whole fresh table: the naive
                  adapter, kept to show what the contract's untouched rows catch.
  index-add       dst.index_add_(0, ids, grad_out * s): added into dst in place
                  (s: 1/count with scaling, padding positions dropped).

--raw drops the adapter's validation (torch's own checks only; a torch
error is reported as invalid input), to show what torch itself rejects.

Both serve the tied form too, as the dense part followed by
dst.addmm_(dZ.T, H) (torch's CPU matmul) when T > 0. Validation is the
contract's (embgrad_kernel.validate) before any library call; the library
does the arithmetic. torch uses its default CPU threads unless --threads.
"""

import argparse

import numpy as np
import torch

import embgrad_kernel as ek

RAW = False  # --raw: no validation and no shortcuts around torch


def dense_backward(dst, V, D, ids, grad_out, opt):
    ek.validate(dst, V, D, ids, grad_out, opt)
    N = len(ids)
    if not RAW and (N == 0 or D == 0):
        return  # nothing to add (and aten rejects some empty shapes)
    grad = torch.from_numpy(np.array(grad_out)).view(N, D)
    idx = torch.from_numpy(ids.astype(np.int64))
    pad = opt.padding_idx if opt.has_padding else -1
    fresh = torch.ops.aten.embedding_dense_backward(grad, idx, V, pad, opt.scale)
    named = np.unique(ids)
    if opt.has_padding:
        named = named[named != opt.padding_idx]
    if len(named) == 0:
        return
    d = torch.from_numpy(dst).view(V, D)
    t = torch.from_numpy(named.astype(np.int64))
    d.index_copy_(0, t, d.index_select(0, t) + fresh.index_select(0, t))


def dense_backward_whole(dst, V, D, ids, grad_out, opt):
    """The naive adapter: dst += the whole fresh table (a contract finding)."""
    ek.validate(dst, V, D, ids, grad_out, opt)
    N = len(ids)
    if not RAW and (N == 0 or D == 0):
        return
    grad = torch.from_numpy(np.array(grad_out)).view(N, D)
    idx = torch.from_numpy(ids.astype(np.int64))
    pad = opt.padding_idx if opt.has_padding else -1
    torch.from_numpy(dst).view(V, D).add_(torch.ops.aten.embedding_dense_backward(grad, idx, V, pad, opt.scale))


def index_add(dst, V, D, ids, grad_out, opt):
    ek.validate(dst, V, D, ids, grad_out, opt)
    N = len(ids)
    if not RAW and (N == 0 or D == 0):
        return
    keep, s = ek.scales(ids, opt)
    if not RAW and not keep.any():
        return
    g = torch.from_numpy(np.array(grad_out)).view(N, D)[torch.from_numpy(keep)]
    if opt.scale:
        g = g * torch.from_numpy(s[keep]).view(-1, 1)
    torch.from_numpy(dst).view(V, D).index_add_(0, torch.from_numpy(ids[keep].astype(np.int64)), g)


def tied_of(dense):
    def tied(dst, V, D, ids, grad_out, opt, T, H, dZ):
        ek.validate_tied(dst, V, D, ids, grad_out, opt, T, H, dZ)
        dense(dst, V, D, ids, grad_out, opt)
        if T > 0 and V > 0 and D > 0:
            h = torch.from_numpy(np.array(H)).view(T, D)
            z = torch.from_numpy(np.array(dZ)).view(T, V)
            torch.from_numpy(dst).view(V, D).addmm_(z.t(), h)
    return tied


def raw(fn):
    """fn without the contract's validation: torch's own checks only, any
    torch error reported as invalid input (for --raw: what torch rejects)."""
    def k(*args):
        saved, saved_tied = ek.validate, ek.validate_tied
        ek.validate = ek.validate_tied = lambda *a: None
        try:
            return fn(*args)
        except (RuntimeError, IndexError, ValueError, TypeError) as e:
            raise ek.InvalidInput("torch: %s: %s" % (type(e).__name__, str(e).splitlines()[0]))
        finally:
            ek.validate, ek.validate_tied = saved, saved_tied
    return k


KERNELS = {
    "dense-backward": ("torch-embedding-dense-backward", dense_backward),
    "dense-backward-whole": ("torch-embedding-dense-backward-whole", dense_backward_whole),
    "index-add": ("torch-index-add", index_add),
}

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernel", choices=sorted(KERNELS), default="dense-backward")
    ap.add_argument("--raw", action="store_true", help="no contract validation: torch's own checks only")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    name, fn = KERNELS[a.kernel]
    dense, tied = fn, tied_of(fn)
    if a.raw:
        RAW = True
        name, dense, tied = name + "-raw", raw(dense), raw(tied)
    ek.serve(name, dense=dense, tied=tied)
