/* A small row-major float32 matrix library: the C step of the ports track.
 *
 * A Matrix either owns its buffer (matrix_create) or wraps memory that someone else owns
 * (matrix_wrap: the CPython extension wraps NumPy buffers this way, so nothing is copied).
 * Every function that can fail returns NULL or a negative number and never touches memory
 * outside the matrices it was given.
 */
#ifndef DLFS_MATRIX_H
#define DLFS_MATRIX_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t rows, cols;
    float *data;   /* rows * cols values, row-major: element (i, j) is data[i * cols + j] */
    int owns_data; /* 1: matrix_free releases data */
} Matrix;

Matrix *matrix_create(size_t rows, size_t cols);              /* zero-filled; NULL when out of memory */
Matrix matrix_wrap(float *data, size_t rows, size_t cols);    /* borrowed buffer, nothing allocated */
void matrix_free(Matrix *m);                                  /* NULL is allowed */

/* out = a (op) b, element-wise; every shape must be equal. Return 0, or -1 on a shape mismatch. */
int matrix_add(const Matrix *a, const Matrix *b, Matrix *out);
int matrix_sub(const Matrix *a, const Matrix *b, Matrix *out);
int matrix_mul(const Matrix *a, const Matrix *b, Matrix *out);

/* out (M, N) = a (M, K) @ b (K, N); out must not alias a or b. Return 0, or -1 on a shape mismatch. */
int matrix_matmul_naive(const Matrix *a, const Matrix *b, Matrix *out);
int matrix_matmul_blocked(const Matrix *a, const Matrix *b, Matrix *out);

int matrix_transpose(const Matrix *a, Matrix *out);          /* out (N, M) = a (M, N)^T */
int matrix_apply(const Matrix *a, float (*fn)(float), Matrix *out); /* out may be a itself */
int matrix_add_row(Matrix *a, const float *row);             /* a[i, :] += row, row has a->cols values */
int matrix_argmax_rows(const Matrix *a, int64_t *out);       /* out[i] = argmax_j a[i, j] (first on ties) */

float matrix_relu(float x);
float matrix_sigmoid(float x);

#endif
