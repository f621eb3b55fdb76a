/*
 * A reference-loop embgrad kernel in C for the C ABI of include/embgrad.h:
 * dense and tied forms. Built and verified by `go test ./extkernel/cabi`:
 *
 *   cc -O2 -shared -fPIC -ffp-contract=off -Iinclude -o libloop.so examples/c/loop.c
 *   embgrad verify -lib ./libloop.so
 *
 * Compiled with -DBROKEN_STRAY, -DBROKEN_MUTATE or -DBROKEN_PADDING it is
 * wrong on purpose (a write one past dst, grad_out changed, padding
 * ignored) and the suites must catch it. -ffp-contract=off keeps
 * s*g + dst from fusing into an FMA, as the contract requires.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embgrad.h"

int32_t embgrad_abi_version(void) { return EMBGRAD_ABI_VERSION; }

const char *embgrad_kernel_name(void) {
#if defined(BROKEN_STRAY)
	return "c-writes-past-dst";
#elif defined(BROKEN_MUTATE)
	return "c-mutates-gradout";
#elif defined(BROKEN_PADDING)
	return "c-ignores-padding";
#else
	return "c-loop";
#endif
}

#define MAX_V ((int64_t)1 << 31) /* embgrad.MaxV */

static int32_t fail(const embgrad_call *c, const char *fmt, long long a, long long b) {
	if (c->msg && c->msg_cap > 0) {
		snprintf(c->msg, (size_t)c->msg_cap, fmt, a, b);
	}
	return EMBGRAD_INVALID_INPUT;
}

/* mul sets *out = a*b, or returns 0 when it overflows int64. */
static int mul(int64_t a, int64_t b, int64_t *out) { return !__builtin_mul_overflow(a, b, out); }

static int overlap(const void *p, int64_t n, const void *q, int64_t m) {
	if (n == 0 || m == 0) return 0;
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)q;
	return a < b + 4 * (uintptr_t)m && b < a + 4 * (uintptr_t)n;
}

static int32_t validate(const embgrad_call *c) {
	int64_t vd, nd;
	if (c->V < 0 || c->D < 0) return fail(c, "invalid input: negative V = %lld or D = %lld", c->V, c->D);
	if (!mul(c->V, c->D, &vd)) return fail(c, "invalid input: V*D = %lld*%lld overflows", c->V, c->D);
	if (c->V > MAX_V) return fail(c, "invalid input: V = %lld above MaxV = %lld", c->V, MAX_V);
	if (c->len_dst != vd) return fail(c, "invalid input: len(dst) = %lld, want V*D = %lld", c->len_dst, vd);
	if (!mul(c->len_ids, c->D, &nd) || c->len_grad_out != nd)
		return fail(c, "invalid input: len(gradOut) = %lld, want len(ids)*D = %lld", c->len_grad_out, nd);
	if ((c->flags & EMBGRAD_PADDING) && (c->padding_idx < 0 || c->padding_idx >= c->V))
		return fail(c, "invalid input: padding index %lld outside [0, %lld)", c->padding_idx, c->V);
	for (int64_t i = 0; i < c->len_ids; i++) {
		if (c->ids[i] < 0 || c->ids[i] >= c->V)
			return fail(c, "invalid input: ids[%lld] = %lld is outside [0, V)", i, c->ids[i]);
	}
	if (overlap(c->dst, c->len_dst, c->grad_out, c->len_grad_out))
		return fail(c, "invalid input: dst (%lld) overlaps gradOut (%lld)", c->len_dst, c->len_grad_out);
	if (overlap(c->dst, c->len_dst, c->ids, c->len_ids))
		return fail(c, "invalid input: dst (%lld) overlaps ids (%lld)", c->len_dst, c->len_ids);
	return EMBGRAD_OK;
}

static int32_t dense(const embgrad_call *c) {
	int64_t D = c->D, N = c->len_ids;
	int padding = (c->flags & EMBGRAD_PADDING) != 0;
#ifdef BROKEN_PADDING
	padding = 0;
#endif
	int32_t *count = NULL;
	if ((c->flags & EMBGRAD_SCALE) && N > 0 && D > 0) {
		count = calloc((size_t)c->V, sizeof *count);
		if (!count) {
			snprintf(c->msg, (size_t)c->msg_cap, "out of memory for %lld counts", (long long)c->V);
			return EMBGRAD_ERROR;
		}
		for (int64_t i = 0; i < N; i++) {
			if (!(padding && c->ids[i] == c->padding_idx)) count[c->ids[i]]++;
		}
	}
	for (int64_t i = 0; i < N; i++) {
		int32_t id = c->ids[i];
		if (padding && id == c->padding_idx) continue;
		float s = count ? 1.0f / (float)count[id] : 1.0f;
		float *row = c->dst + (int64_t)id * D;
		const float *g = c->grad_out + i * D;
		for (int64_t j = 0; j < D; j++) row[j] += s * g[j];
	}
	free(count);
#ifdef BROKEN_STRAY
	if (N > 0) c->dst[c->len_dst] = 0; /* one past the end */
#endif
#ifdef BROKEN_MUTATE
	if (c->len_grad_out > 0) ((float *)c->grad_out)[0] = 0;
#endif
	return EMBGRAD_OK;
}

int32_t embgrad_dense_backward(const embgrad_call *c) {
	int32_t st = validate(c);
	return st != EMBGRAD_OK ? st : dense(c);
}

int32_t embgrad_tied_backward(const embgrad_call *c) {
	int32_t st = validate(c);
	if (st != EMBGRAD_OK) return st;
	int64_t td, tv;
	if (c->T < 0) return fail(c, "invalid input: negative T = %lld%lld", c->T, 0);
	if (!mul(c->T, c->D, &td) || c->len_H != td) return fail(c, "invalid input: len(H) = %lld, want T*D = %lld", c->len_H, td);
	if (!mul(c->T, c->V, &tv) || c->len_dZ != tv) return fail(c, "invalid input: len(dZ) = %lld, want T*V = %lld", c->len_dZ, tv);
	if (overlap(c->dst, c->len_dst, c->H, c->len_H)) return fail(c, "invalid input: dst (%lld) overlaps H (%lld)", c->len_dst, c->len_H);
	if (overlap(c->dst, c->len_dst, c->dZ, c->len_dZ)) return fail(c, "invalid input: dst (%lld) overlaps dZ (%lld)", c->len_dst, c->len_dZ);
	if ((st = dense(c)) != EMBGRAD_OK) return st;
	for (int64_t t = 0; t < c->T; t++) {
		for (int64_t v = 0; v < c->V; v++) {
			float z = c->dZ[t * c->V + v];
			float *row = c->dst + v * c->D;
			const float *h = c->H + t * c->D;
			for (int64_t j = 0; j < c->D; j++) row[j] += z * h[j];
		}
	}
	return EMBGRAD_OK;
}
