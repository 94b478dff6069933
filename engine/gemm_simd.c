/* gemm_simd.c — the SIMD matmul kernels (forward and both backward products), written once against simd.h and
 * compiled per vector width (kernels_simd.h).
 *
 * The GEMM (all three matmul products) is a blocked micro-kernel design (after Goto/BLIS):
 *  - B (the operand read along N) is packed once per call into NR-wide panels [N/NR][K][NR], shared by all
 *    tasks. A is packed per task in KC-deep blocks of MR-row panels into per-thread scratch — on SSE2, which
 *    has no broadcast load, as 4-lane splats (a shuffle per broadcast would compete with the multiplies and
 *    adds for the FP ports) — except where a broadcast from memory is a plain load (AVX2, the AVX-encoded and
 *    NEON 128-bit builds) and A's rows run along k (forward, dinp): the micro-kernel then reads the rows in place
 *    through MR row pointers.
 *  - An MR×NR micro-kernel keeps its tile of C in registers over a KC block; between blocks the tile goes
 *    through memory, which does not change the arithmetic: every output element starts from its bias, 0 or
 *    old value and adds its K products one at a time in increasing k, whatever the blocking, tile shape or
 *    thread count. With separate multiply and add (128-bit) that is exactly the scalar reference's order, so
 *    *_simd128 matches *_scalar bit for bit; the 256-bit build fuses each multiply-add (one rounding less), and
 *    the 512-bit build (the avx512 set's matmuls) fuses them the same way, so *_avx512 matches *_avx2 bit for bit.
 *  - Tasks are equal blocks of output rows (× column blocks when N is wide), in row order (the pool hands each
 *    thread a contiguous range of them first, so it mostly reads the rows its share of the last job wrote). The
 *    backward's two products (dinp and dW) are one packing job and one compute job (gemm_run_job).
 *  - Prefetches cover the access patterns the hardware prefetcher misses here (see the packing routines).
 */
#include "kernels_simd.h"

#define GEMMS_PER_RUN 2 /* products that one pool job can carry: the backward's dinp and dW */

/* ---------------------------------------------------------------- per-thread scratch */
/* Packing buffers are allocated once per thread and grown on demand (never per task). They are freed when
 * their thread exits (a pthread key destructor), so pool workers leave nothing behind. */

/* Two packed-B slots: the backward runs its dinp and dW products as one job, each with its own packed B. */
enum { SCRATCH_PACK_A = 0, SCRATCH_PACK_B = 1, SCRATCH_SLOTS = 1 + GEMMS_PER_RUN };
typedef struct {
    float *buf[SCRATCH_SLOTS];
    size_t cap[SCRATCH_SLOTS];
} thread_scratch;

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
static thread_scratch *the_scratch; /* one thread, for the life of the program */
static thread_scratch *scratch_self(void) {
    if (!the_scratch) the_scratch = calloc(1, sizeof *the_scratch);
    return the_scratch;
}
#else
#include <pthread.h>
static void thread_scratch_free(void *p) {
    thread_scratch *s = p;
    for (int i = 0; i < SCRATCH_SLOTS; i++) free(s->buf[i]);
    free(s);
}

static pthread_key_t scratch_key;
static int scratch_key_ok;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_key_create(void) { scratch_key_ok = pthread_key_create(&scratch_key, thread_scratch_free) == 0; }
static thread_scratch *scratch_self(void) {
    pthread_once(&scratch_once, scratch_key_create);
    if (!scratch_key_ok) return NULL;
    thread_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (s && pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            s = NULL;
        }
    }
    return s;
}
#endif

/* The calling thread's buffer `slot` with room for n floats, 64-byte aligned; NULL if memory is short. */
static float *scratch_get(int slot, size_t n) {
    thread_scratch *s = scratch_self();
    if (!s) return NULL;
    if (s->cap[slot] < n) {
        size_t want = dsp_grow_capacity(n); /* the packed B of dW grows with the batch's tokens */
        free(s->buf[slot]);
        s->buf[slot] = dsp_alloc_lines(want);
        s->cap[slot] = s->buf[slot] ? want : 0;
    }
    return s->buf[slot];
}

/* ---------------------------------------------------------------- GEMM */

/* Micro-tile: MR rows × NV vectors. Measured on the development machine (Zen 5), micro-kernel alone:
 * SSE2 3×16 about 50 GFLOP/s (6×8: 47, 4×8: 45 — gcc re-loads an A splat for each of its uses, and the
 * loads become the limit), AVX2 6×16 about 115; V8 runs 4×8 best (larger tiles spill). AVX-512 6×64 (this
 * project's Zen 5 machine, full-width 512-bit units): 184–204 for forward and dinp in the GEMM table at 1 thread;
 * whole training steps ran alike with k blocks of 128 and 256, slower with 64. */
#if DSP_SIMD_WIDTH == 16 /* AVX-512: 32 registers hold the 24 accumulators, 4 B vectors and the A broadcast */
#define MR 6
#define NV 4
#define PRESPLAT 0
#define DIRECT_A 1
#elif DSP_SIMD_WIDTH == 8 || defined(__AVX__) || defined(__ARM_NEON) /* AVX2; 128-bit in AVX's encoding; NEON */
#define MR 6
#define NV 2
#define PRESPLAT 0
#define DIRECT_A 1 /* a broadcast from memory is a plain load (vbroadcastss, ld1r) */
#elif defined(__wasm_simd128__)
#define MR 4
#define NV 2
#define PRESPLAT 0
#define DIRECT_A 0 /* measured in node: packed A is as fast or faster (one base pointer for V8) */
#else
#define MR 3
#define NV 4
#define PRESPLAT 1 /* SSE2: A values stored as splats (see the top comment) */
#define DIRECT_A 0
#endif
#define NR (NV * W)                /* micro-tile columns */
#define AK (PRESPLAT ? MR * W : MR) /* floats per k in a packed A panel */
#define A_VECS ((MR + W - 1) / W)   /* vectors that cover a panel's k-row */
#if DSP_SIMD_WIDTH == 16
#define KC 128 /* the 64-column B micro-panel (KC×NR, 32 KiB) stays in L1 */
#elif DSP_SIMD_WIDTH == 8 || defined(__AVX__) || defined(__ARM_NEON)
#define KC 512 /* k block: a B micro-panel (KC×NR) stays in L1; AVX2 and VEX-128 measured best at 512 */
#else
#define KC 256 /* SSE's splatted A block is 4× larger: 256 keeps it in L2 */
#endif
#define MC_MAX (((96 + MR - 1) / MR) * MR) /* row block: the packed A block (MC×KC) stays in L2 */
#define NC_MAX 512                 /* column block */
#define PREFETCH_ROWS 8            /* strided A packing (dw) prefetches this many rows ahead */

typedef struct {
    int M, N, K;
    const float *A; size_t a_rs, a_cs; /* A(m,k) = A[m·a_rs + k·a_cs]; a_cs == 1 or a_rs == 1 */
    const float *B; size_t b_rs, b_cs; /* B(k,n) = B[k·b_rs + n·b_cs] */
    float *C; size_t ldc;              /* C(m,n) = C[m·ldc + n] */
    const float *bias;                 /* init: C starts from bias[n], or 0 when NULL */
    int init;                          /* 1: C is overwritten; 0: C is accumulated into */
    float *Bp;                         /* packed B: [ceil(N/NR)][K][NR] */
    int m_panels, m_blocks;            /* rows in MR-row panels; row blocks of about m_panels/m_blocks */
    int nc, n_blocks;                  /* column block width (a multiple of NR) and count */
    int by_column;                     /* tasks numbered column block by column block (see gemm_plan) */
    float *row_sums;                   /* dw's bias gradient, or NULL: row_sums[m] += Σ_k A(m,k), k increasing,
                                        * added while A is packed (it is read then anyway) */
    const float *gelu_pre, *gelu_cdf;  /* or NULL: once a block of C is complete, C = C·gelu'(gelu_pre) (laid out
                                        * like C; gelu_cdf: the forward's Φ(gelu_pre), or NULL) */
} gemm_job;

/* The micro-kernel: C[MR,NR] (at ldc) = start + A-panel · B-panel over kc, one product at a time in
 * increasing k, where the start tile is C itself, or — on an overwritten C's first k block — `init`: one row
 * (the bias, or zeros) for every row of the tile. One body, two ways to find A: ukernel reads a packed panel
 * [kc][AK]; ukernel_rows reads A in place through MR row pointers (rows contiguous along k), which costs
 * nothing extra where a broadcast is a plain load. */
#define UK_START const float *src = init ? init : c; size_t lds = init ? 0 : ldc;
#if NV == 2
#define UK_LOAD(r) vf c##r##0 = vf_loadu(src + (r) * lds), c##r##1 = vf_loadu(src + (r) * lds + W);
#define UK_LOAD_B vf b0 = vf_load(b), b1 = vf_load(b + W);
#define UK_STEP(r)                          \
    {                                       \
        vf ar = A_AT(r);                    \
        c##r##0 = vf_madd(ar, b0, c##r##0); \
        c##r##1 = vf_madd(ar, b1, c##r##1); \
    }
#define UK_STORE(r) vf_storeu(c + (r) * ldc, c##r##0), vf_storeu(c + (r) * ldc + W, c##r##1);
#elif NV == 4
#define UK_LOAD(r)                                                                           \
    vf c##r##0 = vf_loadu(src + (r) * lds), c##r##1 = vf_loadu(src + (r) * lds + W),         \
       c##r##2 = vf_loadu(src + (r) * lds + 2 * W), c##r##3 = vf_loadu(src + (r) * lds + 3 * W);
#define UK_LOAD_B vf b0 = vf_load(b), b1 = vf_load(b + W), b2 = vf_load(b + 2 * W), b3 = vf_load(b + 3 * W);
#define UK_STEP(r)                          \
    {                                       \
        vf ar = A_AT(r);                    \
        c##r##0 = vf_madd(ar, b0, c##r##0); \
        c##r##1 = vf_madd(ar, b1, c##r##1); \
        c##r##2 = vf_madd(ar, b2, c##r##2); \
        c##r##3 = vf_madd(ar, b3, c##r##3); \
    }
#define UK_STORE(r)                                                                          \
    vf_storeu(c + (r) * ldc, c##r##0), vf_storeu(c + (r) * ldc + W, c##r##1),                \
        vf_storeu(c + (r) * ldc + 2 * W, c##r##2), vf_storeu(c + (r) * ldc + 3 * W, c##r##3);
#endif
#if MR == 6
#define UK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
#elif MR == 4
#define UK_ROWS(X) X(0) X(1) X(2) X(3)
#elif MR == 3
#define UK_ROWS(X) X(0) X(1) X(2)
#endif

#if PRESPLAT
#define A_AT(r) vf_load(a + (r) * W)
#else
#define A_AT(r) vf_bcast(a + (r))
#endif
static void ukernel(int kc, const float *restrict a, const float *restrict b, float *restrict c, size_t ldc,
                    const float *init) {
    UK_START
    UK_ROWS(UK_LOAD)
    for (int k = 0; k < kc; k++) {
        UK_LOAD_B
        UK_ROWS(UK_STEP)
        a += AK;
        b += NR;
    }
    UK_ROWS(UK_STORE)
}
#undef A_AT

#if DIRECT_A
#define A_AT(r) vf_bcast(a##r + k)
#define UK_ROW_PTR(r) const float *a##r = rows[r];
static void ukernel_rows(int kc, const float *const rows[MR], const float *restrict b, float *restrict c,
                         size_t ldc, const float *init) {
    UK_ROWS(UK_ROW_PTR)
    UK_START
    UK_ROWS(UK_LOAD)
    for (int k = 0; k < kc; k++) {
        UK_LOAD_B
        UK_ROWS(UK_STEP)
        b += NR;
    }
    UK_ROWS(UK_STORE)
}
#undef A_AT
#endif

/* A partial tile (rows or columns past the edge) goes through a full tile in memory; rows past the edge
 * compute on zero padding (packed A) or repeat the last row (A in place) and are dropped. */
static void ukernel_edge(int kc, const float *a, const float *const *rows, const float *b, float *c, size_t ldc,
                         const float *init, int nrows, int cols) {
    float tile[MR * NR];
    memset(tile, 0, sizeof tile);
    for (int r = 0; r < nrows; r++) memcpy(tile + r * NR, init ? init : c + r * ldc, (size_t)cols * sizeof(float));
#if DIRECT_A
    if (rows) ukernel_rows(kc, rows, b, tile, NR, NULL);
    else ukernel(kc, a, b, tile, NR, NULL);
#else
    (void)rows;
    ukernel(kc, a, b, tile, NR, NULL);
#endif
    for (int r = 0; r < nrows; r++) memcpy(c + r * ldc, tile + r * NR, (size_t)cols * sizeof(float));
}

/* Packs rows [k0, k1) of B into the NR-column panels [N/NR][K][NR], zero past N. Rows of B contiguous along n
 * (dinp, dw) are read a row at a time; B contiguous along k (the forward's wᵀ) a column at a time. */
static void pack_b_rows(const gemm_job *g, int k0, int k1, float *dst) {
    const int panels = (g->N + NR - 1) / NR, full = g->N / NR;
    const size_t pstride = (size_t)g->K * NR;
    if (g->b_cs == 1) {
        for (int k = k0; k < k1; k++) {
            const float *s = g->B + (size_t)k * g->b_rs;
            float *d = dst + (size_t)k * NR;
            for (int p = 0; p < full; p++)
                for (int v = 0; v < NV; v++) vf_store(d + p * pstride + v * W, vf_loadu(s + p * NR + v * W));
            for (int j = full * NR; j < panels * NR; j++) d[full * pstride + j % NR] = j < g->N ? s[j] : 0.0f;
        }
        return;
    }
    for (int n = 0; n < panels * NR; n++) {
        float *d = dst + (size_t)(n / NR) * pstride + n % NR;
        const float *s = g->B + (size_t)n * g->b_cs;
        for (int k = k0; k < k1; k++) d[(size_t)k * NR] = n < g->N ? s[(size_t)k * g->b_rs] : 0.0f;
    }
}

#define PACK_B_ROWS 64 /* rows of B per packing task */

/* Products that run as one pool job: task t belongs to the first product whose task range holds it. One job
 * instead of one per product: the dW product has few, large tasks (its rows are the layer's few outputs), so alone
 * it ends with one thread waiting for the other's last task; the dinp product, run in the same job after it, has
 * many small ones that fill that wait. Which thread computes a block never changes its bits. */
typedef struct {
    gemm_job *g[GEMMS_PER_RUN];
    int first[GEMMS_PER_RUN + 1]; /* product i's tasks are [first[i], first[i+1]) */
    int n;
} gemm_run_job;

/* The product that task `*task` belongs to; *task becomes its index within that product. */
static gemm_job *run_job_at(const gemm_run_job *r, int *task) {
    int i = 0;
    while (i + 1 < r->n && *task >= r->first[i + 1]) i++;
    *task -= r->first[i];
    return r->g[i];
}

static void gemm_pack_b_task(void *vctx, int task, int thread) {
    const gemm_job *g = run_job_at(vctx, &task);
    int k0 = task * PACK_B_ROWS, k1 = k0 + PACK_B_ROWS < g->K ? k0 + PACK_B_ROWS : g->K;
    pack_b_rows(g, k0, k1, g->Bp);
}

/* Floats from one packed A panel to the next: one cache line more than the panel, so that the panels of a
 * block do not all start in the same L1 set (kc·AK floats is a multiple of 4 KiB for the common kc = 256). */
static inline size_t a_panel_stride(int kc) { return (size_t)kc * AK + 16; }

static inline void put_a(float *dst, float v) {
#if PRESPLAT
    vf_store(dst, vf_splat(v));
#else
    *dst = v;
#endif
}

/* Packs A rows [m0, m1) × k [k0, k0+kc) into MR-row panels [kc][AK], zero past m1, reading A along its
 * contiguous dimension: a row at a time when rows run along k (forward, dinp); when columns run along m (dw:
 * A = doutᵀ), a k-row of the block at a time scattered over the panels — walking one panel's k with the
 * source's row stride would revisit each cache line once per panel, and power-of-two strides evict them. */
static void pack_a_block(const gemm_job *g, int m0, int m1, int k0, int kc, float *dst, int sum_rows) {
    const size_t step = PRESPLAT ? W : 1, panel = a_panel_stride(kc); /* floats per packed value, per panel */
    int rows = m1 - m0;
    if (g->a_cs == 1) {
        int i = 0;
#if !PRESPLAT && MR == 4 && W == 4 /* wasm: a full panel's 4 rows × 4 k at a time, one 4×4 transpose */
        for (; i + MR <= rows; i += MR) {
            float *d = dst + (size_t)(i / MR) * panel;
            const float *s = g->A + (size_t)(m0 + i) * g->a_rs + k0;
            int k = 0;
            for (; k + 4 <= kc; k += 4) {
                vf r[4] = {vf_loadu(s + k), vf_loadu(s + g->a_rs + k), vf_loadu(s + 2 * g->a_rs + k),
                           vf_loadu(s + 3 * g->a_rs + k)};
                vf_transpose4(r);
                for (int j = 0; j < 4; j++) vf_store(d + (size_t)(k + j) * AK, r[j]);
            }
            for (; k < kc; k++)
                for (int r = 0; r < MR; r++) d[(size_t)k * AK + r] = s[(size_t)r * g->a_rs + k];
        }
#endif
        for (; i < (rows + MR - 1) / MR * MR; i++) {
            float *d = dst + (size_t)(i / MR) * panel + (size_t)(i % MR) * step;
            const float *s = g->A + (size_t)(m0 + i) * g->a_rs + k0;
            int k = 0;
            if (i + 1 < rows) /* each row is a new stream the hardware is slow to pick up: ask for the next */
                for (int kk = 0; kk < kc; kk += 16) vf_prefetch(s + g->a_rs + kk);
            if (i >= rows) {
                for (; k < kc; k++) put_a(d + (size_t)k * AK, 0.0f);
                continue;
            }
#if PRESPLAT /* four k at a time: one load, four lane splats */
            for (; k + 4 <= kc; k += 4) {
                vf v = vf_loadu(s + k);
                vf_store(d + (size_t)k * AK, vf_dup_lane(v, 0));
                vf_store(d + (size_t)(k + 1) * AK, vf_dup_lane(v, 1));
                vf_store(d + (size_t)(k + 2) * AK, vf_dup_lane(v, 2));
                vf_store(d + (size_t)(k + 3) * AK, vf_dup_lane(v, 3));
            }
#endif
            for (; k < kc; k++) put_a(d + (size_t)k * AK, s[k]);
        }
    } else { /* a_rs == 1 */
        for (int k = 0; k < kc; k++) {
            const float *s = g->A + (size_t)(k0 + k) * g->a_cs + m0;
            float *d = dst + (size_t)k * AK;
            if (k + PREFETCH_ROWS < kc) /* the hardware misses this row stride; ask for the rows ahead */
                for (int i = 0; i < rows; i += 16) vf_prefetch(s + PREFETCH_ROWS * g->a_cs + i);
            if (sum_rows) { /* each row sum adds its k-th element, k increasing across the blocks: colsum's order */
                float *rs = g->row_sums + m0;
                int i = 0;
                for (; i + W <= rows; i += W) vf_storeu(rs + i, vf_add(vf_loadu(rs + i), vf_loadu(s + i)));
                for (; i < rows; i++) rs[i] += s[i];
            }
            for (int i0 = 0; i0 < rows; i0 += MR, d += panel, s += MR) {
                if (i0 + MR <= rows) {
#if !PRESPLAT && MR <= 2 * W
                    /* The panel's k-row is contiguous in the source: one or two vector loads and stores. Lanes
                     * past MR (AVX2: 2 of 8, VEX-128: 2 of 2×4) land in the next k-row's slots, rewritten when that
                     * row is packed, or in the panel's padding; the guard keeps the loads inside the source row
                     * (always true when the panel is one vector wide, as in wasm: it ends inside the block). */
                    if (MR == A_VECS * W || m0 + i0 + A_VECS * W <= g->M) {
                        for (int v = 0; v < A_VECS; v++) vf_storeu(d + v * W, vf_loadu(s + v * W));
                        continue;
                    }
#endif
                    for (int r = 0; r < MR; r++) put_a(d + r * step, s[r]);
                } else {
                    for (int r = 0; r < MR; r++) put_a(d + r * step, i0 + r < rows ? s[r] : 0.0f);
                }
            }
        }
    }
}

static void gemm_init_block(const gemm_job *g, int m0, int m1, int n0, int n1) {
    for (int m = m0; m < m1; m++) {
        float *c = g->C + (size_t)m * g->ldc;
        if (g->bias) memcpy(c + n0, g->bias + n0, (size_t)(n1 - n0) * sizeof(float));
        else memset(c + n0, 0, (size_t)(n1 - n0) * sizeof(float));
    }
}

/* Unpacked fallback when scratch cannot be had: the same per-element order (sf_madd rounds like vf_madd). */
static void gemm_block_direct(const gemm_job *g, int m0, int m1, int n0, int n1) {
    for (int m = m0; m < m1; m++)
        for (int n = n0; n < n1; n++) {
            float acc = g->C[(size_t)m * g->ldc + n];
            for (int k = 0; k < g->K; k++)
                acc = sf_madd(g->A[(size_t)m * g->a_rs + (size_t)k * g->a_cs],
                              g->B[(size_t)k * g->b_rs + (size_t)n * g->b_cs], acc);
            g->C[(size_t)m * g->ldc + n] = acc;
        }
}

/* C's block rows [m0, m1) × columns [n0, n1); jn: the column block's index (the first one sums dW's bias). */
static void gemm_block(const gemm_job *g, int m0, int m1, int n0, int n1, int jn) {
    if (g->K <= 0) {
        if (g->init) gemm_init_block(g, m0, m1, n0, n1);
        return;
    }
    const int direct = DIRECT_A && g->a_cs == 1; /* read A's rows in place */
    int block_panels = (g->m_panels + g->m_blocks - 1) / g->m_blocks; /* the largest block */
    float *Ap = direct ? NULL : scratch_get(SCRATCH_PACK_A, (size_t)block_panels * a_panel_stride(KC));
    if ((!direct && !Ap) || !g->Bp) {
        if (g->init) gemm_init_block(g, m0, m1, n0, n1);
        gemm_block_direct(g, m0, m1, n0, n1);
        if (g->row_sums && jn == 0)
            for (int m = m0; m < m1; m++)
                for (int k = 0; k < g->K; k++) g->row_sums[m] += g->A[(size_t)m * g->a_rs + (size_t)k * g->a_cs];
        return;
    }
    static const float zeros[NR];
    for (int k0 = 0; k0 < g->K; k0 += KC) {
        int kc = g->K - k0 < KC ? g->K - k0 : KC;
        if (!direct) pack_a_block(g, m0, m1, k0, kc, Ap, g->row_sums && jn == 0);
        for (int j0 = n0; j0 < n1; j0 += NR) {
            const float *bp = g->Bp + (size_t)(j0 / NR) * g->K * NR + (size_t)k0 * NR;
            int cols = n1 - j0 < NR ? n1 - j0 : NR;
            /* an overwritten C starts from the bias (or zeros) instead of being written and read back */
            const float *init = !g->init || k0 > 0 ? NULL : g->bias ? g->bias + j0 : zeros;
            float bias_edge[NR];
            if (init && init != zeros && cols < NR) { /* the bias ends inside this panel: pad a copy */
                memset(bias_edge, 0, sizeof bias_edge);
                memcpy(bias_edge, init, (size_t)cols * sizeof(float));
                init = bias_edge;
            }
            const float *ap = Ap;
            for (int i0 = m0; i0 < m1; i0 += MR, ap += a_panel_stride(kc)) {
                int nrows = m1 - i0 < MR ? m1 - i0 : MR;
                float *c = g->C + (size_t)i0 * g->ldc + j0;
                if (!init && i0 + MR < m1) /* C bigger than the caches: fetch the next tile now */
                    for (int r = 0; r < MR; r++) {
                        vf_prefetch(c + (size_t)(MR + r) * g->ldc);
                        vf_prefetch(c + (size_t)(MR + r) * g->ldc + NR - 1);
                    }
                const float *rows[MR];
                if (direct)
                    for (int r = 0; r < MR; r++) /* past the edge: repeat the last row (its results are dropped) */
                        rows[r] = g->A + (size_t)(i0 + (r < nrows ? r : nrows - 1)) * g->a_rs + k0;
                if (nrows < MR || cols < NR)
                    ukernel_edge(kc, ap, direct ? rows : NULL, bp, c, g->ldc, init, nrows, cols);
#if DIRECT_A
                else if (direct) ukernel_rows(kc, rows, bp, c, g->ldc, init);
#endif
                else ukernel(kc, ap, bp, c, g->ldc, init);
            }
        }
    }
}

/* One task: a block of C, then (for a matmul ending in a GELU) the GELU's backward over the block, row by row,
 * while it is still in cache, which saves a pass over dinp from memory. */
static void gemm_task(void *vctx, int task, int thread) {
    const gemm_job *g = run_job_at(vctx, &task);
    int im = g->by_column ? task % g->m_blocks : task / g->n_blocks;
    int jn = g->by_column ? task / g->m_blocks : task % g->n_blocks;
    int m0 = MR * (int)((long)im * g->m_panels / g->m_blocks);
    int m1 = MR * (int)((long)(im + 1) * g->m_panels / g->m_blocks);
    if (m1 > g->M) m1 = g->M;
    int n0 = jn * g->nc, n1 = n0 + g->nc < g->N ? n0 + g->nc : g->N;
    gemm_block(g, m0, m1, n0, n1, jn);
    if (g->gelu_pre)
        for (int m = m0; m < m1; m++) {
            size_t row = (size_t)m * g->ldc;
            gelu_backward_span(g->C + row, g->gelu_pre + row, g->gelu_cdf ? g->gelu_cdf + row : NULL, g->C + row,
                               (size_t)n0, (size_t)n1);
        }
}

/* Chooses g's blocking for `threads` threads and packs nothing yet; returns g's task count (0: nothing to do). */
static int gemm_plan(gemm_job *g, int threads) {
    if (g->M <= 0 || g->N <= 0) return 0;
    int panels = (g->N + NR - 1) / NR;
    g->nc = g->N <= NC_MAX ? panels * NR : NC_MAX;
    /* Several threads and B wider than A is tall (dW of the FFN's output layer: M = 128, N = 512): cut the columns
     * too. Every block of rows reads all of its columns' packed B, so with row blocks alone each thread streams the
     * whole of B (K·N) and packs its share of A (M·K); with a column block per thread it streams its share of B and
     * packs all of A: less traffic exactly when N > M (this product gained about 12% at 2 threads). The tasks are
     * then numbered column block by column block, so that the pool's contiguous range of tasks per thread is a
     * column block, not a row block of every column. */
    g->by_column = 0;
    if (threads > 1 && g->N >= g->M) {
        int per = (panels + threads - 1) / threads;
        if (per * NR < g->nc) g->nc = per * NR, g->by_column = 1;
    }
    g->n_blocks = (g->N + g->nc - 1) / g->nc;
    /* Row blocks: as large as L2 allows, smaller when that leaves fewer than two tasks per thread; cut at
     * panel boundaries spread evenly (block sizes differ by one panel at most). The blocking never changes
     * what an element computes, so results do not depend on it. */
    int nb = (g->M + MC_MAX - 1) / MC_MAX, want = (2 * threads + g->n_blocks - 1) / g->n_blocks;
    g->m_panels = (g->M + MR - 1) / MR;
    if (nb < want) nb = want;
    if (nb > (g->m_panels + 1) / 2) nb = (g->m_panels + 1) / 2; /* at least two panels a block */
    g->m_blocks = nb > 0 ? nb : 1;
    return g->m_blocks * g->n_blocks;
}

/* Runs the products gs[0..n) (writing disjoint outputs) as one packing job and one compute job, tasks in that
 * order: put the product with the largest tasks first, so that the smaller ones fill the end. */
static void gemm_run(const dsp_kctx *k, gemm_job *const *gs, int n) {
    int threads = dsp_pool_threads(k->pool);
    gemm_run_job run = {.n = 0}, pack = {.n = 0};
    for (int i = 0; i < n; i++) {
        gemm_job *g = gs[i];
        int tasks = gemm_plan(g, threads);
        if (tasks == 0) continue;
        int panels = (g->N + NR - 1) / NR;
        g->Bp = g->K > 0 ? scratch_get(SCRATCH_PACK_B + i, (size_t)panels * NR * g->K) : NULL;
        if (g->Bp) {
            pack.g[pack.n] = g;
            pack.first[pack.n + 1] = pack.first[pack.n] + (g->K + PACK_B_ROWS - 1) / PACK_B_ROWS;
            pack.n++;
        }
        run.g[run.n] = g;
        run.first[run.n + 1] = run.first[run.n] + tasks;
        run.n++;
    }
    if (pack.n) dsp_pool_run(k->pool, gemm_pack_b_task, &pack, pack.first[pack.n]);
    if (run.n) dsp_pool_run(k->pool, gemm_task, &run, run.first[run.n]);
}

static void gemm_run1(const dsp_kctx *k, gemm_job *g) { gemm_run(k, &g, 1); }

void KFN(dsp_matmul_forward)(const dsp_kctx *k, float *out, const float *inp, const float *w, const float *b,
                             int T, int C, int OC) {
    gemm_job g = {.M = T, .N = OC, .K = C, .A = inp, .a_rs = (size_t)C, .a_cs = 1, .B = w, .b_rs = 1,
                  .b_cs = (size_t)C, .C = out, .ldc = (size_t)OC, .bias = b, .init = 1};
    gemm_run1(k, &g);
}

typedef struct {
    float *db;
    const float *dout;
    int T, OC;
} colsum_job;

/* db[o] += Σ_t dout[t,o] for a block of columns. */
static void colsum_task(void *vctx, int task, int thread) {
    const colsum_job *j = vctx;
    int o0 = task * COL_BLOCK, n = j->OC - o0 < COL_BLOCK ? j->OC - o0 : COL_BLOCK, nv = n / W * W;
    float acc[COL_BLOCK];
    memcpy(acc, j->db + o0, (size_t)n * sizeof(float));
    for (int t = 0; t < j->T; t++) {
        const float *g = j->dout + (size_t)t * j->OC + o0;
        int o = 0;
        for (; o < nv; o += W) vf_storeu(acc + o, vf_add(vf_loadu(acc + o), vf_loadu(g + o)));
        for (; o < n; o++) acc[o] += g[o];
    }
    memcpy(j->db + o0, acc, (size_t)n * sizeof(float));
}

void KFN(dsp_matmul_backward)(const dsp_kctx *k, float *dinp, float *dw, float *db, const float *dout,
                              const float *inp, const float *w, int T, int C, int OC, int dinp_set,
                              const float *gelu_pre, const float *gelu_cdf) {
    /* dW first: its tasks are the large ones (see gemm_run_job) */
    gemm_job gw, gi, *jobs[GEMMS_PER_RUN];
    int n = 0;
    const int fused = dw && C > 0 && OC > 1;
    if (dw) { /* dw[OC,C] += dout[T,OC]ᵀ · inp[T,C]; db (the row sums of doutᵀ) while doutᵀ is packed, which
               * its column-wise branch does: with OC == 1 the strides cannot tell the two branches apart, and with
               * C == 0 nothing is packed, so db then takes the column-sum pass below */
        gw = (gemm_job){.M = OC, .N = C, .K = T, .A = dout, .a_rs = 1, .a_cs = (size_t)OC, .B = inp,
                        .b_rs = (size_t)C, .b_cs = 1, .C = dw, .ldc = (size_t)C, .row_sums = fused ? db : NULL};
        jobs[n++] = &gw;
    }
    if (dinp) { /* dinp[T,C] += dout[T,OC] · w[OC,C], or = when dinp_set (the tiles start from zeros); then, with
                 * gelu_pre, dinp = dinp·gelu'(gelu_pre) block by block */
        gi = (gemm_job){.M = T, .N = C, .K = OC, .A = dout, .a_rs = (size_t)OC, .a_cs = 1, .B = w,
                        .b_rs = (size_t)C, .b_cs = 1, .C = dinp, .ldc = (size_t)C, .init = dinp_set,
                        .gelu_pre = gelu_pre, .gelu_cdf = gelu_cdf};
        jobs[n++] = &gi;
    }
    gemm_run(k, jobs, n);
    if (fused) db = NULL;
    if (db && OC > 0) {
        colsum_job j = {db, dout, T, OC};
        dsp_pool_run(k->pool, colsum_task, &j, (OC + COL_BLOCK - 1) / COL_BLOCK);
    }
}
