#ifndef BIORNN_KERNELS_H
#define BIORNN_KERNELS_H

// Elementwise kernels of BioRNN's hot loops, in C for two reasons: a C function can be compiled
// for several instruction sets and pick the widest at load time (target_clones), which Swift
// cannot do without unsafe build flags; and `restrict` tells the compiler that two blocks do not
// overlap, which Swift's pointers cannot, so such loops vectorise. The arithmetic is written
// operation by operation with contraction off, so every clone, and the scalar form Swift inlines,
// rounds as the Swift it replaced: the block results equal the scalar ones bit for bit.

#include <stdint.h>
#include <string.h>

/// A spin-wait loop's hint to the CPU that it is waiting (x86 `pause`), so that leaving the loop
/// does not flush the pipeline and the other thread of a shared core is not starved.
static inline void biornn_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// tanh without a libm call, branch-free so that loops over it vectorise, within 5 ulp of
/// glibc's (ForwardTests checks 10⁶ values over every range, with the error budget):
///
///     y = min(2|x|, 44)                        (at 44, tanh rounds to 1)
///     y = k·ln 2 + r,  k = round(y/ln 2),  |r| ≤ ln 2 / 2, r in two parts (Cody–Waite)
///     expm1(r) = r·Σ_{n=0}^{13} rⁿ/(n+1)!      (Taylor, Horner; truncation < 2·10⁻¹⁷ relative)
///     u = expm1(y) = 2^k·expm1(r) + (2^k − 1)  (2^k·expm1(r) and 2^k − 1 are exact)
///     tanh|x| = u / (u + 2)
///
/// and the sign of x put back (tanh(−0) = −0, tiny x keep full precision: k = 0, r = y); NaN
/// stays NaN.
static inline double biornn_tanh(double x) {
#pragma clang fp contract(off)
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    const uint64_t sign = bits & 0x8000000000000000ull;
    const uint64_t magnitudeBits = bits & 0x7fffffffffffffffull;
    double ax;
    memcpy(&ax, &magnitudeBits, sizeof ax);

    const double y = 2 * ax < 44.0 ? 2 * ax : 44.0;
    // k = round(y/ln 2) by adding 1.5·2⁵² (whose ulp is 1): no rint call; k's bits are then the
    // low bits of t's, which also builds 2^k below.
    const double magic = 6755399441055744.0;
    const double t = y * 1.4426950408889634 + magic;
    const double k = t - magic;
    const double r = (y - k * 6.93147180369123816490e-01) - k * 1.90821492927058770002e-10;
    double q = 1.0 / 87178291200.0;                                   // 1/14!
    q = q * r + 1.0 / 6227020800.0; q = q * r + 1.0 / 479001600.0; q = q * r + 1.0 / 39916800.0;
    q = q * r + 1.0 / 3628800.0; q = q * r + 1.0 / 362880.0; q = q * r + 1.0 / 40320.0;
    q = q * r + 1.0 / 5040.0; q = q * r + 1.0 / 720.0; q = q * r + 1.0 / 120.0;
    q = q * r + 1.0 / 24.0; q = q * r + 1.0 / 6.0; q = q * r + 0.5; q = q * r + 1;
    const double expm1r = r * q;
    uint64_t tBits, magicBits;
    memcpy(&tBits, &t, sizeof tBits);
    memcpy(&magicBits, &magic, sizeof magicBits);
    const uint64_t scaleBits = (tBits - magicBits + 1023) << 52;
    double scale;                                                     // 2^k
    memcpy(&scale, &scaleBits, sizeof scale);
    const double u = scale * expm1r + (scale - 1);
    const double magnitude = u / (u + 2);

    uint64_t outBits;
    memcpy(&outBits, &magnitude, sizeof outBits);
    outBits |= sign;
    double out;
    memcpy(&out, &outBits, sizeof out);
    return x != x ? x : out;
}

/// y[i] = biornn_tanh(x[i]) for i < n, with the widest vectors the CPU has.
void biornn_tanh_block(const double *x, double *y, long n);

/// The leaky update of one B×N block before the recurrent product is added:
///     cur[b·N + j] ← (1 − α)·prev[b·N + j] + α·(cur[b·N + j] + bias[j])
/// (cur holds the input drive W_in·x_t on entry). The blocks must not overlap.
void biornn_leak(const double *prev, double *cur, const double *bias, double alpha, long trials, long units);

/// v[i] ← v[i]·(1 − r[i]·r[i]) for i < n: a block times tanh'(a) = 1 − tanh(a)², from r = tanh(a)
/// (the backward passes' and e-prop's learning signals).
void biornn_tanh_slope_product(double *v, const double *r, long n);

/// One Adam (AdamW) step on n parameters p with moments m, v and gradient g, operation by
/// operation as the optimiser states it (c₁ = 1 − β₁ᵗ, c₂ = 1 − β₂ᵗ; λ = 0 for Adam):
///     m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g·g
///     p ← p − η·((m / c₁) / (√(v / c₂) + ε) + λ·p)
/// Division and square root round correctly in every clone, so the vectors give the scalar loop's bits.
void biornn_adam(long n, double *p, double *m, double *v, const double *g,
                 double beta1, double beta2, double c1, double c2, double eta, double epsilon, double decay);

/// What a flossing window's backward step takes from V̄_t (k×n, one tangent direction per row)
/// and Q_{t−1} (k×n): the explicit outer-product rows for W̄_rec, stacked,
///     left[c·n + j] = V̄[c·n + j],   right[c·n + j] = α·slopes[j]·Q[c·n + j]          c < k, j < n
/// and, when P (k×n, W_recᵀV̄_t by rows) is not NULL, the state term's sums in order of c,
///     u[j] = Σ_c Q[c·n + j]·P[c·n + j]          (u = 0 without P).
void biornn_flossing_step_terms(long k, long n, double alpha, const double *v, const double *q,
                                const double *slopes, const double *p, double *left, double *right, double *u);

/// The two operands of a Jacobian step J·Q = (1 − α)·Q + α·W_rec·(D·Q) on a k×n block Qᵀ (one
/// tangent vector per row), before the packed product adds α·(D·Q)ᵀ·W_recᵀ:
///     s[c·n + j] = slopes[j]·q[c·n + j],   q[c·n + j] ← (1 − α)·q[c·n + j]          c < k, j < n
void biornn_jacobian_operands(long k, long n, double alpha, const double *slopes, double *q, double *s);

/// One step of a leaky trace on the columns j0 ≤ j < j1 of `rows` rows (leading dimension ld):
///     out[b·ld + j] = (1 − α)·prev[b·ld + j] + α·in[b·ld + j]          (prev = NULL: α·in)
/// The rows read (prev, in) must not overlap the rows written.
void biornn_leaky_step(const double *prev, const double *in, long rows, long j0, long j1, long ld,
                       double alpha, double *out);

/// Products with a short, wide matrix M (k×n, k a handful: the readout W_out, a feedback Bᵀ),
/// one short sum per entry, for the columns j0 ≤ j < j1:
///
///     C[b·ldc + j] = Σ_{i<k} X[b·k + i]·M[i·ldm + j]          b < rows
///
/// each sum X₀·M₀ first, then one fused multiply-add per further term in order of i, so that an
/// entry's bits do not depend on the rows or columns computed with it.
void biornn_wide_rows(long rows, long k, long j0, long j1, const double *x, const double *m, long ldm,
                      double *c, long ldc);

/// b[j·ldb + i] = a[i·lda + j] for i < rows, j < cols: the rows×cols row-major block at a,
/// transposed into b (between the row-major matrices of BioRNN and LAPACK's column-major ones),
/// in 8×8 tiles so that neither side strides through memory one line per element.
void biornn_transpose(const double *a, long lda, double *b, long ldb, long rows, long cols);

/// The weight gradients of the narrow matrices (W_in, W_out) and of a bias, from a tall block A
/// (rows×n, row-major, leading dimension lda) and a tall, narrow X (rows×m, m a handful):
///
///     P[i·n + j] += Σ_row X[row·m + i]·A[row·lda + j],   S[j] += Σ_row A[row·lda + j]
///
/// for the columns j0 ≤ j < j1 only (S may be NULL). Up to 128 rows (a chunk of e-prop's rows, in
/// cache) the sums of up to 6 rows of P (and S) over 16 columns stay in registers through all
/// rows; taller blocks, which stream from memory, are read row by row. Either way each sum runs
/// the rows in order, one multiply and one add per term, so a column's bits depend neither on
/// which range it is in nor on the path: columns split between threads give the same bits as one
/// call. One pass over A instead of a GEMM, which for m this small spends its time packing A
/// (see the Performance article of the BioRNN documentation).
void biornn_narrow_products(const double *x, long m, const double *a, long lda, long rows,
                            long j0, long j1, double *p, long n, double *s);

/// Products with a short, wide matrix M (n×k, n a handful: the readout W_out), one dot product
/// of length k per entry:
///
///     C[b·ldc + o] += Σ_{j<k} R[b·ldr + j]·M[o·ldm + j]          b < rows, o < n
///
/// Each sum keeps 8 partial sums, lane l taking j ≡ l (mod 8) by fused multiply-adds in order of
/// j, and adds them lane 0…7 in order at the end: the same bits on every CPU and for every split
/// of the rows. (A panel of the packed product below would be 32 wide for these few rows of M.)
void biornn_dot_rows(long rows, long n, long k, const double *r, long ldr, const double *m, long ldm,
                     double *c, long ldc);

/// The weight-gradient product of two tall blocks, summed over their rows (T·B of them):
///
///     C[i·ldc + l] += α·Σ_{j<rows} A[j·lda + i]·B[j·ldb + l]          i0 ≤ i < i1, l < n
///
/// (C = α·AᵀB for the rows i0…i1 − 1 of C). Both blocks are read in place: a tile of 4 rows of C
/// by 32 columns reads 4 consecutive entries of each row of A and 32 of each row of B, so neither
/// is packed (OpenBLAS packs both, and for 256 × 3200 blocks that copy cost a third of the
/// product; the columns of B are swept in groups of 256, so that a block's strip of B stays in
/// L2 while every tile of C's rows reads it). The rows are summed in blocks of 128: each block's sum runs its rows in order with one
/// fused multiply-add per term and is then scaled by α and added to C, block after block. An
/// entry's bits therefore depend on neither the range i0…i1 it is in nor the CPU: rows of C split
/// between threads give the same bits as one call, and so do calls on consecutive runs of rows
/// that are whole blocks (but the last).
enum { BIORNN_TRANSPOSED_BLOCK_ROWS = 128 };
void biornn_transposed_product(long rows, double alpha, const double *a, long lda, long i0, long i1,
                               const double *b, long ldb, long n, double *c, long ldc);

/// The recurrent product of one time step against a matrix packed once for many steps:
///
///     C[b·ldc + i] += α·Σ_{j<k} R[b·ldr + j]·M_ij          b < rows, i < n
///
/// OpenBLAS repacks both operands on every call, which for a 32×256·256×256 step costs as much as
/// the arithmetic; M (W_rec, or W_recᵀ going backwards) is the same for every step of a pass, so
/// it is packed once (biornn_pack) into panels of 32 of its rows, column by column, zero-padded to
/// a whole panel. Each sum runs j = 0, 1, …, k − 1 with one fused multiply-add per term and is
/// then scaled and added to C, so every output has the same bits on every CPU and however the
/// rows are split between threads.
long biornn_packed_count(long n, long k);   // doubles biornn_pack writes for an n×k matrix
/// M_ij = m[i·rowStride + j·colStride] (rowStride 1, colStride n packs a row-major matrix's transpose).
void biornn_pack(const double *m, long rowStride, long colStride, long n, long k, double *packed);
void biornn_packed_product(long rows, long n, long k, double alpha, const double *r, long ldr,
                           const double *packed, double *c, long ldc);

/// CholeskyQR's three parts (BioRNN's CholeskyQR2), on a row-major k×n block V with one vector per
/// row (LAPACK's column-major n×k), in place of OpenBLAS's dsyrk, LAPACK's dpotrf and OpenBLAS's
/// dtrsm, which at these sizes ran far below the dgemm peak. k×k matrices are row-major upper
/// triangles with row stride ld (≥ k): entry (i, j), i ≤ j, at [i·ld + j]. Every entry is a fixed
/// sequence of operations, so all give the same bits on every CPU and for any split of their
/// columns between threads.
///
/// The Gram matrix's upper triangle, for the columns j0 ≤ j < j1 (j0 a multiple of 4):
///
///     G[i·ld + j] = Σ_l V[i·n + l]·V[j·n + l]          i ≤ j,  j0 ≤ j < j1
///
/// each sum as biornn_dot_rows's: 8 lanes (l mod 8), each in order of l with one fused multiply-add
/// per term, then the lanes added 0…7 in order. Tiles of 4 × 4 sums share their loads; every sum
/// is computed whole, so columns split between threads give the same bits as one call.
void biornn_gram(long k, long n, const double *v, long j0, long j1, double *g, long ld);

/// The Cholesky factorisation G = UᵀU in place (G and U upper, as above; ld ≥ k + 31, the padding
/// past column k being scratch), by rows of U:
///
///     s = G_ji − Σ_{l<j} U_lj·U_li   (one fused multiply-add per term, in order of l)
///     U_jj = √s_jj,   U_ji = s_ji·(1 / U_jj)   for i > j
///
/// four rows at a time, each row's columns 32 at a time, as biornn_triangular_solve's forward
/// substitution with U's own earlier rows as the right-hand sides. Returns 0, or j + 1 for the
/// first row j whose pivot s_jj is not positive (or NaN: G is not numerically positive definite).
long biornn_cholesky(long k, double *a, long ld);

/// The same factorisation in two parts, for two threads. biornn_cholesky_rows factors the rows
/// r0 ≤ j < r1 (r0 a multiple of 4) with the terms l < l0 already subtracted from G's stored rows,
/// its sums running over l0 ≤ l < j (biornn_cholesky is rows 0 … k with l0 = 0); it returns as
/// biornn_cholesky does. biornn_cholesky_update subtracts the terms l0 ≤ l < l1 (rows of U already
/// factored) from the rows r0 ≤ i < r1 (r0 a multiple of 4; in each 4-row block the columns from
/// the block's first row to k, those left of a row's diagonal and past k being scratch), each sum
/// continued in order of l and stored. Updates for consecutive ranges of l, then rows from the
/// last l1, give every entry the operations, in the order, that biornn_cholesky gives it: the
/// same bits.
long biornn_cholesky_rows(long k, double *a, long ld, long r0, long r1, long l0);
void biornn_cholesky_update(long k, double *a, long ld, long r0, long r1, long l0, long l1);

/// Q = V·U⁻¹ for U upper triangular (row-major with row stride ldu, U_li = u[l·ldu + i]),
/// row by row (forward substitution):
///
///     q_i = (v_i − Σ_{l<i} U_li·q_l)·(1 / U_ii)          i = 0, 1, …, k − 1
///
/// for the columns c0 ≤ j < c1 of V and Q (both k×n, row-major; q may be v, in place), each
/// entry's sum starting from v_i and taking one fused multiply-add per term in order of l, then one
/// product with the rounded reciprocal. Columns are independent (any split between threads gives
/// the same bits); 32 at a time share the loads of U.
void biornn_triangular_solve(long k, long n, const double *u, long ldu, long c0, long c1, const double *v, double *q);

#endif
