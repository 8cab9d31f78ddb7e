#include "Kernels.h"

// On x86-64, one clone per instruction set; the loader picks the widest the CPU supports.
// Elsewhere (arm64), the baseline already has the vector unit the loop uses.
#if defined(__x86_64__) && defined(__linux__)
#define BIORNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BIORNN_CLONES
#endif

BIORNN_CLONES
void biornn_tanh_block(const double *x, double *y, long n) {
    // Four vectors in flight: one tanh is a chain of ~30 dependent operations, so a single
    // vector per iteration leaves the units idle (see the Performance article of the BioRNN documentation).
#pragma clang loop interleave_count(4)
    for (long i = 0; i < n; i++) y[i] = biornn_tanh(x[i]);
}

BIORNN_CLONES
void biornn_leak(const double *restrict prev, double *restrict cur, const double *restrict bias, double alpha,
                 long trials, long units) {
#pragma clang fp contract(off)
    for (long b = 0; b < trials; b++)
        for (long j = 0; j < units; j++)
            cur[b * units + j] = (1 - alpha) * prev[b * units + j] + alpha * (cur[b * units + j] + bias[j]);
}

BIORNN_CLONES
void biornn_tanh_slope_product(double *restrict v, const double *restrict r, long n) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) v[i] = v[i] * (1 - r[i] * r[i]);
}

BIORNN_CLONES
void biornn_adam(long n, double *restrict p, double *restrict m, double *restrict v, const double *restrict g,
                 double beta1, double beta2, double c1, double c2, double eta, double epsilon, double decay) {
#pragma clang fp contract(off)
    for (long i = 0; i < n; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        const double step = (m[i] / c1) / (__builtin_elementwise_sqrt(v[i] / c2) + epsilon);
        p[i] -= eta * (step + decay * p[i]);
    }
}

BIORNN_CLONES
void biornn_flossing_step_terms(long k, long n, double alpha, const double *restrict v, const double *restrict q,
                                const double *restrict slopes, const double *restrict p, double *restrict left,
                                double *restrict right, double *restrict u) {
#pragma clang fp contract(off)
    memcpy(left, v, (size_t)(k * n) * sizeof(double));
    for (long c = 0; c < k; c++)
        for (long j = 0; j < n; j++) right[c * n + j] = alpha * slopes[j] * q[c * n + j];
    for (long j = 0; j < n; j++) u[j] = 0;
    if (!p) return;
    for (long c = 0; c < k; c++)
        for (long j = 0; j < n; j++) u[j] += q[c * n + j] * p[c * n + j];
}

BIORNN_CLONES
void biornn_jacobian_operands(long k, long n, double alpha, const double *restrict slopes, double *restrict q,
                              double *restrict s) {
#pragma clang fp contract(off)
    for (long c = 0; c < k; c++)
        for (long j = 0; j < n; j++) {
            const double v = q[c * n + j];
            s[c * n + j] = slopes[j] * v;
            q[c * n + j] = (1 - alpha) * v;
        }
}

BIORNN_CLONES
void biornn_leaky_step(const double *restrict prev, const double *restrict in, long rows, long j0, long j1, long ld,
                       double alpha, double *restrict out) {
#pragma clang fp contract(off)
    for (long b = 0; b < rows; b++) {
        const double *restrict x = in + b * ld;
        double *restrict cur = out + b * ld;
        if (prev) {
            const double *restrict p = prev + b * ld;
            for (long j = j0; j < j1; j++) cur[j] = (1 - alpha) * p[j] + alpha * x[j];
        } else {
            for (long j = j0; j < j1; j++) cur[j] = alpha * x[j];
        }
    }
}

BIORNN_CLONES
void biornn_wide_rows(long rows, long k, long j0, long j1, const double *restrict x, const double *restrict m, long ldm,
                      double *restrict c, long ldc) {
#pragma clang fp contract(off)
    for (long b = 0; b < rows; b++) {
        double *restrict row = c + b * ldc;
        if (k <= 0) {
            for (long j = j0; j < j1; j++) row[j] = 0;
            continue;
        }
        const double x0 = x[b * k];
        for (long j = j0; j < j1; j++) row[j] = x0 * m[j];
        for (long i = 1; i < k; i++) {
            const double xi = x[b * k + i];
            const double *restrict mi = m + i * ldm;
            for (long j = j0; j < j1; j++) row[j] = __builtin_elementwise_fma(xi, mi[j], row[j]);
        }
    }
}

void biornn_transpose(const double *a, long lda, double *b, long ldb, long rows, long cols) {
    enum { tile = 8 };
    for (long i0 = 0; i0 < rows; i0 += tile) {
        const long i1 = i0 + tile < rows ? i0 + tile : rows;
        for (long j0 = 0; j0 < cols; j0 += tile) {
            const long j1 = j0 + tile < cols ? j0 + tile : cols;
            for (long j = j0; j < j1; j++)
                for (long i = i0; i < i1; i++) b[j * ldb + i] = a[i * lda + j];
        }
    }
}

// ---- The recurrent product with a packed matrix (see Kernels.h) ----

enum { PANEL = 32, TILE_ROWS = 4, VECTORS = PANEL / 8 };
typedef double vec8 __attribute__((vector_size(64), aligned(64)));   // a tile's accumulators
typedef double vec8u __attribute__((vector_size(64), aligned(8)));   // the same, at any address

long biornn_packed_count(long n, long k) { return (n + PANEL - 1) / PANEL * PANEL * k; }

void biornn_pack(const double *m, long rowStride, long colStride, long n, long k, double *packed) {
    for (long i0 = 0; i0 < n; i0 += PANEL)
        for (long j = 0; j < k; j++) {
            double *row = packed + i0 * k + j * PANEL;
            for (long ii = 0; ii < PANEL; ii++) row[ii] = i0 + ii < n ? m[(i0 + ii) * rowStride + j * colStride] : 0;
        }
}

// One tile of C += α·X·W, `tileRows` (≤ TILE_ROWS, a constant after inlining) rows by `cols`
// (≤ PANEL) columns of C: term j of row m is x[m·xRow + j·xTerm] times the PANEL doubles at
// w + j·wTerm, a row of a packed panel or of a tall block read in place. 16 accumulators keep
// both FMA units busy through their latency.
static inline __attribute__((always_inline)) void tile(int tileRows, const double *x, long xRow, long xTerm,
                                                       const double *w, long wTerm, long count,
                                                       double *c, long ldc, long cols, double alpha) {
#pragma clang fp contract(off)
    vec8 sum[TILE_ROWS][VECTORS];
    for (int m = 0; m < tileRows; m++)
        for (int v = 0; v < VECTORS; v++) sum[m][v] = (vec8){0};
    for (long j = 0; j < count; j++) {
        const vec8u *wj = (const vec8u *)(w + j * wTerm);
        for (int m = 0; m < tileRows; m++) {
            const double xm = x[m * xRow + j * xTerm];
            const vec8 xs = {xm, xm, xm, xm, xm, xm, xm, xm};
            for (int v = 0; v < VECTORS; v++) sum[m][v] = __builtin_elementwise_fma(xs, wj[v], sum[m][v]);
        }
    }
    const vec8 a = {alpha, alpha, alpha, alpha, alpha, alpha, alpha, alpha};
    for (int m = 0; m < tileRows; m++) {
        if (cols == PANEL) {
            for (int v = 0; v < VECTORS; v++) {
                vec8u *out = (vec8u *)(c + m * ldc + 8 * v);
                *out = *out + a * sum[m][v];
            }
        } else {
            double s[PANEL];
            memcpy(s, sum[m], sizeof s);
            for (long i = 0; i < cols; i++) c[m * ldc + i] = c[m * ldc + i] + alpha * s[i];
        }
    }
}

BIORNN_CLONES
void biornn_dot_rows(long rows, long n, long k, const double *r, long ldr, const double *m, long ldm,
                     double *c, long ldc) {
#pragma clang fp contract(off)
    for (long b = 0; b < rows; b++)
        for (long o = 0; o < n; o++) {
            const double *x = r + b * ldr, *w = m + o * ldm;
            vec8 sum = {0};
            long j = 0;
            for (; j + 8 <= k; j += 8) sum = __builtin_elementwise_fma(*(const vec8u *)(x + j), *(const vec8u *)(w + j), sum);
            double lanes[8];
            memcpy(lanes, &sum, sizeof lanes);
            for (; j < k; j++) lanes[j % 8] = __builtin_elementwise_fma(x[j], w[j], lanes[j % 8]);
            double total = lanes[0];
            for (int l = 1; l < 8; l++) total += lanes[l];
            c[b * ldc + o] += total;
        }
}

BIORNN_CLONES
void biornn_packed_product(long rows, long n, long k, double alpha, const double *r, long ldr,
                           const double *packed, double *c, long ldc) {
    for (long i0 = 0; i0 < n; i0 += PANEL) {
        const double *panel = packed + i0 * k;
        const long cols = n - i0 < PANEL ? n - i0 : PANEL;
        long b = 0;
        for (; b + TILE_ROWS <= rows; b += TILE_ROWS)
            tile(TILE_ROWS, r + b * ldr, ldr, 1, panel, PANEL, k, c + b * ldc + i0, ldc, cols, alpha);
        switch (rows - b) {   // the last 1–3 rows, each count its own unrolled tile
        case 3: tile(3, r + b * ldr, ldr, 1, panel, PANEL, k, c + b * ldc + i0, ldc, cols, alpha); break;
        case 2: tile(2, r + b * ldr, ldr, 1, panel, PANEL, k, c + b * ldc + i0, ldc, cols, alpha); break;
        case 1: tile(1, r + b * ldr, ldr, 1, panel, PANEL, k, c + b * ldc + i0, ldc, cols, alpha); break;
        default: break;
        }
    }
}

// ---- The narrow products (see Kernels.h) ----

enum {
    NARROW_WIDTH = 16,    // columns of A per block: two vectors
    NARROW_GROUP = 6,     // rows of P (or S) summed at once: 12 accumulators (I + 2 for e-prop)
    NARROW_ROWS = 128,    // the tallest A read by column blocks (a chunk of e-prop's rows, in cache)
};

// Rows i0 … i0 + g − 1 of the sums (row m is S, whose X is 1: 1·a is exact) over the 16 columns
// at j, held in registers through all rows of A, each added as a product then a sum, row by row
// in order: the same operations as one row at a time through memory.
static inline __attribute__((always_inline)) void narrowBlock(int g, long i0, const double *x, long m, const double *a,
                                                              long lda, long rows, long j, double *p, long n, double *s) {
#pragma clang fp contract(off)
    static const double one = 1;
    vec8 acc[NARROW_GROUP][2];
    double *out[NARROW_GROUP];
    const double *xs[NARROW_GROUP];
    long step[NARROW_GROUP];
    for (int i = 0; i < g; i++) {
        const int sum = i0 + i == m;
        out[i] = sum ? s + j : p + (i0 + i) * n + j;
        xs[i] = sum ? &one : x + i0 + i;
        step[i] = sum ? 0 : m;
        acc[i][0] = *(const vec8u *)out[i];
        acc[i][1] = *(const vec8u *)(out[i] + 8);
    }
    for (long r = 0; r < rows; r++) {
        const vec8 a0 = *(const vec8u *)(a + r * lda + j), a1 = *(const vec8u *)(a + r * lda + j + 8);
        for (int i = 0; i < g; i++) {
            const double xi = xs[i][r * step[i]];
            const vec8 xv = {xi, xi, xi, xi, xi, xi, xi, xi};
            acc[i][0] = acc[i][0] + xv * a0;
            acc[i][1] = acc[i][1] + xv * a1;
        }
    }
    for (int i = 0; i < g; i++) {
        *(vec8u *)out[i] = acc[i][0];
        *(vec8u *)(out[i] + 8) = acc[i][1];
    }
}

BIORNN_CLONES
void biornn_narrow_products(const double *restrict x, long m, const double *restrict a, long lda, long rows,
                            long j0, long j1, double *restrict p, long n, double *restrict s) {
#pragma clang fp contract(off)
    long whole = j0;   // columns done in blocks
    if (rows <= NARROW_ROWS) {
        const long sums = m + (s ? 1 : 0);
        whole = j0 + (j1 - j0) / NARROW_WIDTH * NARROW_WIDTH;
        for (long j = j0; j < whole; j += NARROW_WIDTH)
            for (long i0 = 0; i0 < sums; i0 += NARROW_GROUP) {
                switch (sums - i0 < NARROW_GROUP ? sums - i0 : NARROW_GROUP) {
                case 6: narrowBlock(6, i0, x, m, a, lda, rows, j, p, n, s); break;
                case 5: narrowBlock(5, i0, x, m, a, lda, rows, j, p, n, s); break;
                case 4: narrowBlock(4, i0, x, m, a, lda, rows, j, p, n, s); break;
                case 3: narrowBlock(3, i0, x, m, a, lda, rows, j, p, n, s); break;
                case 2: narrowBlock(2, i0, x, m, a, lda, rows, j, p, n, s); break;
                default: narrowBlock(1, i0, x, m, a, lda, rows, j, p, n, s); break;
                }
            }
    }
    // Taller blocks stream from memory, where a pass row by row ran faster than column blocks;
    // and the last columns, fewer than a block.
    for (long row = 0; row < rows; row++) {
        const double *restrict ar = a + row * lda;
        for (long i = 0; i < m; i++) {
            const double xi = x[row * m + i];
            double *restrict pi = p + i * n;
            for (long j = whole; j < j1; j++) pi[j] += xi * ar[j];
        }
        if (s)
            for (long j = whole; j < j1; j++) s[j] += ar[j];
    }
}

// ---- The transposed product of two tall blocks (see Kernels.h) ----

enum {
    BLOCK_ROWS = BIORNN_TRANSPOSED_BLOCK_ROWS,   // rows of A and B per partial sum: a tile's
                                                 // strips of both stay in L1/L2
    COLUMN_GROUP = 256,   // columns of B per sweep over C's rows: a block's 128 × 256 strip of B is
                          // 256 KB, which stays in L2 while every tile of C's rows reads it
};

BIORNN_CLONES
void biornn_transposed_product(long rows, double alpha, const double *a, long lda, long i0, long i1,
                               const double *b, long ldb, long n, double *c, long ldc) {
    // The last columns of B, fewer than a panel, are copied per block into a zero-padded strip,
    // so that the tile never reads past a row of B.
    double strip[BLOCK_ROWS * PANEL] __attribute__((aligned(64)));
    const long whole = n / PANEL * PANEL, rest = n - whole;
    for (long j0 = 0; j0 < rows; j0 += BLOCK_ROWS) {
        const long count = rows - j0 < BLOCK_ROWS ? rows - j0 : BLOCK_ROWS;
        const double *ab = a + j0 * lda, *bb = b + j0 * ldb;
        if (rest > 0) {
            memset(strip, 0, sizeof strip);
            for (long j = 0; j < count; j++) memcpy(strip + j * PANEL, bb + j * ldb + whole, rest * sizeof(double));
        }
        for (long g0 = 0; g0 < n; g0 += COLUMN_GROUP) {
            const long g1 = n - g0 < COLUMN_GROUP ? n : g0 + COLUMN_GROUP;
            const long panelsEnd = g1 < whole ? g1 : whole;
            const int hasRest = rest > 0 && whole < g1;   // the strip belongs to the last group
            long i = i0;
            for (; i + TILE_ROWS <= i1; i += TILE_ROWS) {
                for (long l0 = g0; l0 < panelsEnd; l0 += PANEL)
                    tile(TILE_ROWS, ab + i, 1, lda, bb + l0, ldb, count, c + i * ldc + l0, ldc, PANEL, alpha);
                if (hasRest) tile(TILE_ROWS, ab + i, 1, lda, strip, PANEL, count, c + i * ldc + whole, ldc, rest, alpha);
            }
            for (; i < i1; i++) {   // the last 1–3 rows of C, one at a time
                for (long l0 = g0; l0 < panelsEnd; l0 += PANEL)
                    tile(1, ab + i, 1, lda, bb + l0, ldb, count, c + i * ldc + l0, ldc, PANEL, alpha);
                if (hasRest) tile(1, ab + i, 1, lda, strip, PANEL, count, c + i * ldc + whole, ldc, rest, alpha);
            }
        }
    }
}

// ---- CholeskyQR's Gram matrix and triangular solve (see Kernels.h) ----

// The totals of eight 8-lane sums a[0] … a[7], each lane 0 + lane 1 + … + lane 7 in that order
// (as one sum at a time would add them): the 8×8 block transposed in three rounds of shuffles on
// the pairs (i, i + d), d = 1, 2, 4, the first of each pair keeping the lower lane of every pair of
// lanes (of 1, 2, then 4 lanes) and the second the upper, so that x[q] ends holding lane q of every
// sum; then the vectors added in order q = 0 … 7.
static inline __attribute__((always_inline)) void laneTotals(const vec8 *a, double *totals) {
#pragma clang fp contract(off)
    vec8 x[8];
    for (int i = 0; i < 8; i++) x[i] = a[i];
    for (int i = 0; i < 8; i++) {   // d = 1: (a_i₀ a_{i+1}₀ a_i₂ a_{i+1}₂ …) and the odd lanes
        if (i & 1) continue;
        const vec8 lo = x[i], hi = x[i + 1];
        x[i] = __builtin_shufflevector(lo, hi, 0, 8, 2, 10, 4, 12, 6, 14);
        x[i + 1] = __builtin_shufflevector(lo, hi, 1, 9, 3, 11, 5, 13, 7, 15);
    }
    for (int i = 0; i < 8; i++) {   // d = 2: pairs (0, 2), (1, 3), (4, 6), (5, 7)
        if (i & 2) continue;
        const vec8 lo = x[i], hi = x[i + 2];
        x[i] = __builtin_shufflevector(lo, hi, 0, 1, 8, 9, 4, 5, 12, 13);
        x[i + 2] = __builtin_shufflevector(lo, hi, 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 8; i++) {   // d = 4: pairs (0, 4), (1, 5), (2, 6), (3, 7)
        if (i & 4) continue;
        const vec8 lo = x[i], hi = x[i + 4];
        x[i] = __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 8, 9, 10, 11);
        x[i + 4] = __builtin_shufflevector(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15);
    }
    vec8 sums = x[0];
    for (int q = 1; q < 8; q++) sums = sums + x[q];
    memcpy(totals, &sums, sizeof sums);
}

// The sums of rows i0 … i0 + ti − 1 with rows j0 … j0 + tj − 1 of V (ti, tj ≤ 4), those with i ≤ j
// stored: 8 lanes each while whole vectors last, the last n mod 8 terms into their lanes, then the
// lanes in order, as biornn_dot_rows (a whole tile without such terms adds its lanes as vectors,
// in the same order: one by one they took as long as the tile's multiply-adds at n = 256).
static inline __attribute__((always_inline)) void gramTile(int ti, int tj, const double *v, long n, long i0, long j0,
                                                           double *g, long ld) {
#pragma clang fp contract(off)
    vec8 acc[4][4];
    for (int a = 0; a < ti; a++)
        for (int b = 0; b < tj; b++) acc[a][b] = (vec8){0};
    long l = 0;
    for (; l + 8 <= n; l += 8) {
        vec8 x[4], y[4];
        for (int a = 0; a < ti; a++) x[a] = *(const vec8u *)(v + (i0 + a) * n + l);
        for (int b = 0; b < tj; b++) y[b] = *(const vec8u *)(v + (j0 + b) * n + l);
        for (int a = 0; a < ti; a++)
            for (int b = 0; b < tj; b++) acc[a][b] = __builtin_elementwise_fma(x[a], y[b], acc[a][b]);
    }
    if (ti == 4 && tj == 4 && l == n) {   // whole tile, no tail: its 16 lane sums as vectors
        double totals[16];
        laneTotals(acc[0], totals);       // rows a = 0, 1: acc[0][0…3], acc[1][0…3]
        laneTotals(acc[2], totals + 8);   // rows a = 2, 3
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                if (i0 + a <= j0 + b) g[(i0 + a) * ld + j0 + b] = totals[4 * a + b];
        return;
    }
    for (int a = 0; a < ti; a++)
        for (int b = 0; b < tj; b++) {
            if (i0 + a > j0 + b) continue;
            double lanes[8];
            memcpy(lanes, &acc[a][b], sizeof lanes);
            for (long m = l; m < n; m++)
                lanes[m % 8] = __builtin_elementwise_fma(v[(i0 + a) * n + m], v[(j0 + b) * n + m], lanes[m % 8]);
            double total = lanes[0];
            for (int q = 1; q < 8; q++) total += lanes[q];
            g[(i0 + a) * ld + j0 + b] = total;
        }
}

BIORNN_CLONES
void biornn_gram(long k, long n, const double *restrict v, long first, long last, double *restrict g, long ld) {
    for (long j0 = first; j0 < last; j0 += 4) {
        const int tj = last - j0 < 4 ? (int)(last - j0) : 4;
        for (long i0 = 0; i0 <= j0; i0 += 4) {
            const int ti = k - i0 < 4 ? (int)(k - i0) : 4;
            if (ti == 4 && tj == 4) gramTile(4, 4, v, n, i0, j0, g, ld);
            else gramTile(ti, tj, v, n, i0, j0, g, ld);
        }
    }
}

enum { SOLVE_ROWS = 8, SOLVE_VECTORS = 2, SOLVE_WIDTH = 8 * SOLVE_VECTORS };   // rows at once, on 16 columns

// Loops over a tile's rows and vectors, whose counts are constants once inlined, unrolled whole so
// that the tile's sums stay in registers: clang's own limits left the solve's 8 × 2 tile in memory
// (its finish through the stack), at two thirds of the speed (<doc:Performance#Re-orthonormalisation>).
// Unrolling changes no operation and no order.
#define UNROLLED _Pragma("clang loop unroll(full)")

// Rows i0 … i0 + t − 1 (t ≤ 8) of the solve on the 8·w columns at j (w ≤ 4 vectors), in two
// phases. solveSums: s = v_i − Σ_{l0≤l<l1} U_li·q_l for all t rows at once (each q_l loaded once
// for t rows; the solve's terms are 0 ≤ l < i0, the Cholesky factorisation's may start later, the
// earlier ones being in v already, or end earlier, in its update). solveFinish: the terms
// i0 ≤ l < i within the rows, each row finished (× 1/U_ii) and stored before the next row takes
// its term, with the rows' own t × t block of U read from `c` (row
// stride ldc: c[b·ldc + a] = U_{i0+b, i0+a}). Per entry the same operations, in the same order, as
// one row at a time, whatever t and w.
static inline __attribute__((always_inline)) void solveSums(int t, int w, long l0, long l1, long i0, long n, long j,
                                                            const double *u, long ldu, const double *v, const double *q,
                                                            vec8 s[8][4]) {
#pragma clang fp contract(off)
    UNROLLED for (int a = 0; a < t; a++)
        UNROLLED for (int x = 0; x < w; x++) s[a][x] = *(const vec8u *)(v + (i0 + a) * n + j + 8 * x);
    for (long l = l0; l < l1; l++) {
        vec8 ql[4];
        UNROLLED for (int x = 0; x < w; x++) ql[x] = *(const vec8u *)(q + l * n + j + 8 * x);
        UNROLLED for (int a = 0; a < t; a++) {
            const double c = -u[l * ldu + i0 + a];
            const vec8 cv = {c, c, c, c, c, c, c, c};
            UNROLLED for (int x = 0; x < w; x++) s[a][x] = __builtin_elementwise_fma(cv, ql[x], s[a][x]);
        }
    }
}

static inline __attribute__((always_inline)) void solveFinish(int t, int w, long i0, long n, long j, const double *c,
                                                              long ldc, vec8 s[8][4], double *q) {
#pragma clang fp contract(off)
    UNROLLED for (int a = 0; a < t; a++) {
        UNROLLED for (int b = 0; b < a; b++) {
            const double cb = -c[b * ldc + a];
            const vec8 cv = {cb, cb, cb, cb, cb, cb, cb, cb};
            UNROLLED for (int x = 0; x < w; x++) s[a][x] = __builtin_elementwise_fma(cv, s[b][x], s[a][x]);
        }
        const double r = 1 / c[a * ldc + a];
        const vec8 rv = {r, r, r, r, r, r, r, r};
        UNROLLED for (int x = 0; x < w; x++) {
            s[a][x] = s[a][x] * rv;
            *(vec8u *)(q + (i0 + a) * n + j + 8 * x) = s[a][x];
        }
    }
}

static inline __attribute__((always_inline)) void solveRows(int t, int w, long l0, long i0, long n, long j,
                                                            const double *u, long ldu, const double *v, double *q) {
    vec8 s[8][4];
    solveSums(t, w, l0, i0, i0, n, j, u, ldu, v, q, s);
    solveFinish(t, w, i0, n, j, u + i0 * ldu + i0, ldu, s, q);
}

BIORNN_CLONES
void biornn_triangular_solve(long k, long n, const double *restrict u, long ldu, long c0, long c1, const double *v,
                             double *q) {
#pragma clang fp contract(off)
    long j = c0;
    for (; j + SOLVE_WIDTH <= c1; j += SOLVE_WIDTH) {
        long i = 0;
        for (; i + SOLVE_ROWS <= k; i += SOLVE_ROWS) solveRows(SOLVE_ROWS, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q);
        switch (k - i) {
        case 7: solveRows(7, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        case 6: solveRows(6, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        case 5: solveRows(5, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        case 4: solveRows(4, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        case 3: solveRows(3, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        case 2: solveRows(2, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        case 1: solveRows(1, SOLVE_VECTORS, 0, i, n, j, u, ldu, v, q); break;
        default: break;
        }
    }
    for (; j < c1; j++)
        for (long i = 0; i < k; i++) {
            double s = v[i * n + j];
            for (long l = 0; l < i; l++) s = __builtin_elementwise_fma(-u[l * ldu + i], q[l * n + j], s);
            q[i * n + j] = s * (1 / u[i * ldu + i]);
        }
}

// Rows j0 … j0 + t − 1 (t ≤ 4) of U in the 32 columns from j0: their sums over the earlier rows
// l0 ≤ l < j0 as the solve's (solveSums, four vectors a row), then their own t × t block from those
// sums' first lanes, one row after another (pivot, square root), then the 32 columns finished as
// the solve's with that block as coefficients (solveFinish; its stores put s/U_jj on the block's
// diagonal, so the block is written back after). Returns the first row whose pivot fails, or −1.
static inline __attribute__((always_inline)) long choleskyTile(long ld, double *a, long l0, long j0, int t) {
#pragma clang fp contract(off)
    vec8 s[8][4];
    solveSums(t, 4, l0, j0, j0, ld, j0, a, ld, a, a, s);
    double d[4][4];   // the t × t block, row r from column r on
    UNROLLED for (int r = 0; r < t; r++) {
        UNROLLED for (int c = r; c < t; c++) d[r][c] = s[r][0][c];
        UNROLLED for (int b = 0; b < r; b++)
            UNROLLED for (int c = r; c < t; c++) d[r][c] = __builtin_elementwise_fma(-d[b][r], d[b][c], d[r][c]);
        if (!(d[r][r] > 0)) return j0 + r;
        d[r][r] = __builtin_elementwise_sqrt(d[r][r]);
        const double reciprocal = 1 / d[r][r];
        UNROLLED for (int c = r + 1; c < t; c++) d[r][c] = d[r][c] * reciprocal;
    }
    solveFinish(t, 4, j0, ld, j0, &d[0][0], 4, s, a);
    UNROLLED for (int r = 0; r < t; r++)   // the block's own columns (below the diagonal: s's lanes, unused)
        UNROLLED for (int c = r; c < t; c++) a[(j0 + r) * ld + j0 + c] = d[r][c];
    return -1;
}

BIORNN_CLONES
long biornn_cholesky_rows(long k, double *a, long ld, long r0, long r1, long l0) {
#pragma clang fp contract(off)
    for (long j0 = r0; j0 < r1; j0 += 4) {
        const int t = k - j0 < 4 ? (int)(k - j0) : 4;
        long failed;
        switch (t) {   // each count its own unrolled tile
        case 4: failed = choleskyTile(ld, a, l0, j0, 4); break;
        case 3: failed = choleskyTile(ld, a, l0, j0, 3); break;
        case 2: failed = choleskyTile(ld, a, l0, j0, 2); break;
        default: failed = choleskyTile(ld, a, l0, j0, 1); break;
        }
        if (failed >= 0) return failed + 1;
        for (long j = j0 + 32; j < k; j += 32) {   // the rest of the rows' columns, 32 at a time
            switch (t) {
            case 4: solveRows(4, 4, l0, j0, ld, j, a, ld, a, a); break;
            case 3: solveRows(3, 4, l0, j0, ld, j, a, ld, a, a); break;
            case 2: solveRows(2, 4, l0, j0, ld, j, a, ld, a, a); break;
            default: solveRows(1, 4, l0, j0, ld, j, a, ld, a, a); break;
            }
        }
    }
    return 0;
}

long biornn_cholesky(long k, double *a, long ld) { return biornn_cholesky_rows(k, a, ld, 0, k, 0); }

// Rows i0 … i0 + t − 1 of the update, in the 32 columns at j: the solve's sums over l0 ≤ l < l1,
// stored back unfinished.
static inline __attribute__((always_inline)) void choleskyUpdateTile(int t, long ld, double *a, long l0, long l1,
                                                                     long i0, long j) {
#pragma clang fp contract(off)
    vec8 s[8][4];
    solveSums(t, 4, l0, l1, i0, ld, j, a, ld, a, a, s);
    UNROLLED for (int r = 0; r < t; r++)
        UNROLLED for (int x = 0; x < 4; x++) *(vec8u *)(a + (i0 + r) * ld + j + 8 * x) = s[r][x];
}

BIORNN_CLONES
void biornn_cholesky_update(long k, double *a, long ld, long r0, long r1, long l0, long l1) {
#pragma clang fp contract(off)
    for (long i0 = r0; i0 < r1; i0 += 4) {
        const int t = k - i0 < 4 ? (int)(k - i0) : 4;
        for (long j = i0; j < k; j += 32) {
            switch (t) {
            case 4: choleskyUpdateTile(4, ld, a, l0, l1, i0, j); break;
            case 3: choleskyUpdateTile(3, ld, a, l0, l1, i0, j); break;
            case 2: choleskyUpdateTile(2, ld, a, l0, l1, i0, j); break;
            default: choleskyUpdateTile(1, ld, a, l0, l1, i0, j); break;
            }
        }
    }
}
