#include "matrix.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Block edge of the cache-blocked matmul: three 64x64 float tiles (48 KiB) stay in L1/L2. */
#define BLOCK 64

Matrix *matrix_create(size_t rows, size_t cols) {
    Matrix *m = malloc(sizeof *m);
    if (!m) return NULL;
    m->rows = rows;
    m->cols = cols;
    m->owns_data = 1;
    size_t count = rows * cols;
    m->data = calloc(count > 0 ? count : 1, sizeof(float)); /* calloc(0) may return NULL */
    if (!m->data) {
        free(m);
        return NULL;
    }
    return m;
}

Matrix matrix_wrap(float *data, size_t rows, size_t cols) {
    Matrix m = {rows, cols, data, 0};
    return m;
}

void matrix_free(Matrix *m) {
    if (!m) return;
    if (m->owns_data) free(m->data);
    free(m);
}

static int same_shape(const Matrix *a, const Matrix *b, const Matrix *out) {
    return a->rows == b->rows && a->cols == b->cols && out->rows == a->rows && out->cols == a->cols;
}

int matrix_add(const Matrix *a, const Matrix *b, Matrix *out) {
    if (!same_shape(a, b, out)) return -1;
    for (size_t i = 0, n = a->rows * a->cols; i < n; i++) out->data[i] = a->data[i] + b->data[i];
    return 0;
}

int matrix_sub(const Matrix *a, const Matrix *b, Matrix *out) {
    if (!same_shape(a, b, out)) return -1;
    for (size_t i = 0, n = a->rows * a->cols; i < n; i++) out->data[i] = a->data[i] - b->data[i];
    return 0;
}

int matrix_mul(const Matrix *a, const Matrix *b, Matrix *out) {
    if (!same_shape(a, b, out)) return -1;
    for (size_t i = 0, n = a->rows * a->cols; i < n; i++) out->data[i] = a->data[i] * b->data[i];
    return 0;
}

static int matmul_shapes_ok(const Matrix *a, const Matrix *b, const Matrix *out) {
    return a->cols == b->rows && out->rows == a->rows && out->cols == b->cols;
}

/* The textbook triple loop: for each output element, a dot product of a row of a and a column of b.
 * The column walk strides b by a whole row per step, so every step is a cache miss once b is large. */
int matrix_matmul_naive(const Matrix *a, const Matrix *b, Matrix *out) {
    if (!matmul_shapes_ok(a, b, out)) return -1;
    size_t M = a->rows, K = a->cols, N = b->cols;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            float sum = 0.0f;
            for (size_t k = 0; k < K; k++) sum += a->data[i * K + k] * b->data[k * N + j];
            out->data[i * N + j] = sum;
        }
    return 0;
}

/* Cache-blocked: work on BLOCK x BLOCK tiles, and inside a tile use the i-k-j order, whose inner loop
 * runs along rows of b and out (contiguous, so the compiler vectorizes it). */
int matrix_matmul_blocked(const Matrix *a, const Matrix *b, Matrix *out) {
    if (!matmul_shapes_ok(a, b, out)) return -1;
    size_t M = a->rows, K = a->cols, N = b->cols;
    memset(out->data, 0, M * N * sizeof(float));
    for (size_t i0 = 0; i0 < M; i0 += BLOCK)
        for (size_t k0 = 0; k0 < K; k0 += BLOCK)
            for (size_t j0 = 0; j0 < N; j0 += BLOCK) {
                size_t i1 = i0 + BLOCK < M ? i0 + BLOCK : M;
                size_t k1 = k0 + BLOCK < K ? k0 + BLOCK : K;
                size_t j1 = j0 + BLOCK < N ? j0 + BLOCK : N;
                for (size_t i = i0; i < i1; i++) {
                    float *restrict row_out = out->data + i * N;
                    for (size_t k = k0; k < k1; k++) {
                        const float aik = a->data[i * K + k];
                        const float *restrict row_b = b->data + k * N;
                        for (size_t j = j0; j < j1; j++) row_out[j] += aik * row_b[j];
                    }
                }
            }
    return 0;
}

int matrix_transpose(const Matrix *a, Matrix *out) {
    if (out->rows != a->cols || out->cols != a->rows) return -1;
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->cols; j++) out->data[j * a->rows + i] = a->data[i * a->cols + j];
    return 0;
}

int matrix_apply(const Matrix *a, float (*fn)(float), Matrix *out) {
    if (out->rows != a->rows || out->cols != a->cols || !fn) return -1;
    for (size_t i = 0, n = a->rows * a->cols; i < n; i++) out->data[i] = fn(a->data[i]);
    return 0;
}

int matrix_add_row(Matrix *a, const float *row) {
    for (size_t i = 0; i < a->rows; i++)
        for (size_t j = 0; j < a->cols; j++) a->data[i * a->cols + j] += row[j];
    return 0;
}

int matrix_argmax_rows(const Matrix *a, int64_t *out) {
    if (a->cols == 0) return -1;
    for (size_t i = 0; i < a->rows; i++) {
        const float *row = a->data + i * a->cols;
        size_t best = 0;
        for (size_t j = 1; j < a->cols; j++)
            if (row[j] > row[best]) best = j; /* strict: the first maximum wins, as np.argmax */
        out[i] = (int64_t)best;
    }
    return 0;
}

float matrix_relu(float x) { return x > 0.0f ? x : 0.0f; }

float matrix_sigmoid(float x) {
    /* the branch keeps exp from overflowing for large |x| */
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
