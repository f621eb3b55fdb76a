/*
 * embgrad.h — the C ABI of an embgrad kernel in a shared library.
 *
 * A library exports embgrad_abi_version and embgrad_kernel_name, and one
 * function per form it serves (embgrad_dense_backward, embgrad_tied_backward;
 * a missing symbol means the form is not served). `embgrad verify -lib
 * libk.so` loads it (without cgo) and runs the gradcheck and property suites
 * on it: the library works on embgrad's own memory, so guard bands, input
 * mutation and overlapping buffers are checked as for a Go kernel.
 *
 * The contract is embgrad's (see the Go package doc of
 * github.com/embgrad/embgrad): add into dst; validate everything before the
 * first write and on error leave dst bit-for-bit unchanged; ids, grad_out,
 * H and dZ are read-only; NaN and Inf propagate; no buffer may overlap
 * another (reject that as invalid input); safe to call from several threads
 * on distinct dst buffers; deterministic.
 *
 * Every length is a count of elements, given as the caller has it — a
 * length that does not match the shape is invalid input the kernel must
 * report, not trust. A pointer whose length is 0 may be anything, NULL
 * included: do not dereference it.
 */
#ifndef EMBGRAD_H
#define EMBGRAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBGRAD_ABI_VERSION 1

/* Return values of the backward functions (the process protocol's statuses). */
enum embgrad_status {
	EMBGRAD_OK = 0,            /* dst holds the result */
	EMBGRAD_INVALID_INPUT = 1, /* rejected before any write; msg says why */
	EMBGRAD_ERROR = 2          /* any other failure; msg says what */
};

/* Bits of embgrad_call.flags. */
enum embgrad_flags {
	EMBGRAD_PADDING = 1, /* padding_idx is set: positions with that id contribute nothing */
	EMBGRAD_SCALE = 2    /* scale_grad_by_freq: each position's row scaled by 1/count(id) */
};

/* One backward call. The dense form reads V..len_grad_out; the tied form
 * also T..len_dZ. Field order and types are the ABI: 128 bytes on LP64. */
typedef struct embgrad_call {
	int64_t V, D;            /* the table is V×D, row-major */
	uint32_t flags;          /* enum embgrad_flags */
	int32_t padding_idx;     /* with EMBGRAD_PADDING: must lie in [0, V) */
	float *dst;              /* V×D: the gradient, added into */
	int64_t len_dst;
	const int32_t *ids;      /* N token ids, each in [0, V) */
	int64_t len_ids;
	const float *grad_out;   /* N×D upstream gradient */
	int64_t len_grad_out;
	int64_t T;               /* tied: T positions met the output projection */
	const float *H;          /* tied: T×D hidden states */
	int64_t len_H;
	const float *dZ;         /* tied: T×V gradient of the logits */
	int64_t len_dZ;
	char *msg;               /* on error: a NUL-terminated message, at most msg_cap bytes */
	int64_t msg_cap;
} embgrad_call;

int32_t embgrad_abi_version(void);      /* returns EMBGRAD_ABI_VERSION */
const char *embgrad_kernel_name(void);  /* a short name, static storage */

/* dst[ids[i]*D + j] += s_i * grad_out[i*D + j] over positions i not padding. */
int32_t embgrad_dense_backward(const embgrad_call *c);

/* The dense part, then dst[v*D + j] += dZ[t*V + v] * H[t*D + j]. */
int32_t embgrad_tied_backward(const embgrad_call *c);

#ifdef __cplusplus
}
#endif

#endif /* EMBGRAD_H */
