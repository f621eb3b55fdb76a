"""The kernel side of embgrad's process protocol, in Python (stdlib struct
and numpy only).

A kernel process reads framed calls on stdin and answers on stdout; see
docs/PROTOCOL.md. Write a kernel as a function and serve it:

    import embgrad_kernel as ek

    def backward(dst, V, D, ids, grad_out, opt):
        ek.validate(dst, V, D, ids, grad_out, opt)     # the contract: reject first
        ...                                           # add into dst (float32, length V*D)

    ek.serve("my-kernel", dense=backward)

then `embgrad verify -exec 'python3 my_kernel.py'` runs the suites on it.
dst is a writable float32 array; ids (int32) and grad_out (float32) are
read-only copies. Raise InvalidInput for invalid input (dst untouched); any
other exception is reported as the kernel crashing (as a Go panic is).

serve() points sys.stdout at stderr while it runs, so a stray print() in a
kernel cannot corrupt the frames.

This file also serves the numpy kernel `numpy-add-at` (np.add.at into dst;
tied: plus dZ.T @ H) when run as a program:

    python3 clients/python/embgrad_kernel.py
"""

import struct
import sys
import traceback

import numpy as np

VERSION = 1
MAGIC = b"EGRD"
HEADER = struct.Struct("<4sHHI")  # magic, type, reserved, payload length

T_HELLO, T_WELCOME, T_DENSE, T_TIED, T_RESULT = 1, 2, 16, 17, 32
CAP_DENSE, CAP_SCRATCH, CAP_TIED, CAP_PARALLEL, CAP_NONDETERMINISTIC = 1, 2, 4, 8, 16
FLAG_PADDING, FLAG_SCALE, FLAG_SCRATCH = 1, 2, 4
OK, INVALID_INPUT, ERROR, PANIC, UNSUPPORTED = 0, 1, 2, 3, 4

MAX_V = 1 << 31  # embgrad.MaxV
MAX_INT = (1 << 63) - 1


class InvalidInput(Exception):
    """Raised by a kernel (or validate) for input the contract rejects."""


class Options:
    """padding_idx and scale_grad_by_freq, as embgrad.Options."""

    def __init__(self, has_padding=False, padding_idx=0, scale=False):
        self.has_padding, self.padding_idx, self.scale = has_padding, padding_idx, scale

    def skips(self, id_):
        return self.has_padding and id_ == self.padding_idx


def validate(dst, V, D, ids, grad_out, opt):
    """embgrad.Validate's rules (but overlap, which a copy cannot have)."""
    if V < 0 or D < 0:
        raise InvalidInput("embgrad: invalid input: negative V = %d or D = %d" % (V, D))
    if V * D > MAX_INT:
        raise InvalidInput("embgrad: invalid input: V*D = %d*%d overflows int" % (V, D))
    if V > MAX_V:
        raise InvalidInput("embgrad: invalid input: V = %d is above MaxV = %d" % (V, MAX_V))
    if len(dst) != V * D:
        raise InvalidInput("embgrad: invalid input: len(dst) = %d, want V*D = %d" % (len(dst), V * D))
    if len(grad_out) != len(ids) * D:
        raise InvalidInput("embgrad: invalid input: len(gradOut) = %d, want len(ids)*D = %d" % (len(grad_out), len(ids) * D))
    if opt.has_padding and not 0 <= opt.padding_idx < V:
        raise InvalidInput("embgrad: invalid input: padding index %d outside [0, %d)" % (opt.padding_idx, V))
    if len(ids):
        bad = np.flatnonzero((ids < 0) | (ids >= V))
        if len(bad):
            i = int(bad[0])
            raise InvalidInput("embgrad: invalid input: ids[%d] = %d is outside [0, %d)" % (i, ids[i], V))


def validate_tied(dst, V, D, ids, grad_out, opt, T, H, dZ):
    validate(dst, V, D, ids, grad_out, opt)
    if T < 0 or T * D > MAX_INT or T * V > MAX_INT:
        raise InvalidInput("embgrad: invalid input: T = %d" % T)
    if len(H) != T * D:
        raise InvalidInput("embgrad: invalid input: len(H) = %d, want T*D = %d" % (len(H), T * D))
    if len(dZ) != T * V:
        raise InvalidInput("embgrad: invalid input: len(dZ) = %d, want T*V = %d" % (len(dZ), T * V))


def scales(ids, opt):
    """Per-position float32 factors: 0 for padding, 1/count(id) when scaling."""
    keep = np.ones(len(ids), dtype=bool)
    if opt.has_padding:
        keep = ids != opt.padding_idx
    s = keep.astype(np.float32)
    if opt.scale and keep.any():
        _, inv, counts = np.unique(ids[keep], return_inverse=True, return_counts=True)
        s[keep] = np.float32(1) / counts[inv].astype(np.float32)
    return keep, s


def _read_exact(f, n):
    b = f.read(n)
    if b is None or len(b) != n:
        return None
    return b


class _Reader:
    def __init__(self, payload):
        self.b, self.off = payload, 0

    def unpack(self, fmt):
        v = struct.unpack_from(fmt, self.b, self.off)
        self.off += struct.calcsize(fmt)
        return v

    def array(self, dtype):
        (n,) = self.unpack("<Q")
        a = np.frombuffer(self.b, dtype=dtype, count=n, offset=self.off)
        self.off += 4 * n
        return a


def _frame(t, payload):
    return HEADER.pack(MAGIC, t, 0, len(payload)) + payload


def _result(status, msg, dst):
    m = msg.encode("utf-8", "replace")
    d = np.ascontiguousarray(dst, dtype="<f4").tobytes() if dst is not None else b""
    n = len(dst) if dst is not None else 0
    return _frame(T_RESULT, struct.pack("<II", status, len(m)) + m + struct.pack("<Q", n) + d)


def serve(name, dense=None, tied=None, caps=0):
    """Answer the host's frames on stdin/stdout until stdin ends.

    dense(dst, V, D, ids, grad_out, opt) and
    tied(dst, V, D, ids, grad_out, opt, T, H, dZ) add into dst in place.
    caps may add CAP_NONDETERMINISTIC.
    """
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a print() in a kernel must not reach the frames
    np.seterr(all="ignore")  # NaN and Inf are data here: they propagate
    if dense is not None:
        caps |= CAP_DENSE
    if tied is not None:
        caps |= CAP_TIED
    while True:
        h = _read_exact(inp, HEADER.size)
        if h is None:
            return
        magic, t, _, n = HEADER.unpack(h)
        if magic != MAGIC:
            raise SystemExit("embgrad_kernel: not a frame: %r" % h)
        payload = _read_exact(inp, n)
        if payload is None:
            raise SystemExit("embgrad_kernel: short frame")
        if t == T_HELLO:
            nm = name.encode()
            reply = _frame(T_WELCOME, struct.pack("<IQI", VERSION, caps, len(nm)) + nm)
        elif t in (T_DENSE, T_TIED) and (dense if t == T_DENSE else tied) is not None:
            reply = _answer(t, payload, dense, tied)
        else:
            reply = _result(UNSUPPORTED, "message type %d is not served" % t, None)
        out.write(reply)
        out.flush()


def _answer(t, payload, dense, tied):
    r = _Reader(payload)
    if t == T_TIED:
        V, D, T = r.unpack("<qqq")
    else:
        (V, D), T = r.unpack("<qq"), 0
    flags, pad, _workers = r.unpack("<IiI")
    dst = r.array("<f4").astype(np.float32)  # a writable copy
    ids = r.array("<i4")
    grad_out = r.array("<f4")
    opt = Options(bool(flags & FLAG_PADDING), pad, bool(flags & FLAG_SCALE))
    try:
        if t == T_TIED:
            H, dZ = r.array("<f4"), r.array("<f4")
            tied(dst, V, D, ids, grad_out, opt, T, H, dZ)
        else:
            dense(dst, V, D, ids, grad_out, opt)
    except InvalidInput as e:
        return _result(INVALID_INPUT, str(e), dst)
    except Exception as e:  # the kernel crashed: reported as a Go panic would be
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return _result(PANIC, "kernel raised %s: %s (%s:%d)" % (type(e).__name__, e, tb.filename, tb.lineno), dst)
    return _result(OK, "", dst)


# --- the numpy kernel --------------------------------------------------------


def numpy_add_at(dst, V, D, ids, grad_out, opt):
    """np.add.at into dst: unbuffered, in the order of ids."""
    validate(dst, V, D, ids, grad_out, opt)
    if len(ids) == 0 or D == 0:
        return
    keep, s = scales(ids, opt)
    g = grad_out.reshape(len(ids), D)[keep]
    if opt.scale:
        g = g * s[keep][:, None]  # float32 products, rounded once
    np.add.at(dst.reshape(V, D), ids[keep], g)


def numpy_add_at_tied(dst, V, D, ids, grad_out, opt, T, H, dZ):
    """The dense part with np.add.at, then dst += dZ.T @ H (numpy's matmul)."""
    validate_tied(dst, V, D, ids, grad_out, opt, T, H, dZ)
    numpy_add_at(dst, V, D, ids, grad_out, opt)
    if T > 0 and V > 0 and D > 0:
        dst.reshape(V, D)[...] += dZ.reshape(T, V).T @ H.reshape(T, D)


if __name__ == "__main__":
    serve("numpy-add-at", dense=numpy_add_at, tied=numpy_add_at_tied)
