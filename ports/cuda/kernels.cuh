// The MNIST network's kernels, one per operation of the forward and backward pass.
// Matrices are row-major float32 on the device; (M, K) @ (K, N) -> (M, N).
#pragma once
#include <cuda_runtime.h>

#define TILE 16  // edge of the shared-memory tiles of matmul_tiled and transpose

__global__ void vector_add(const float *a, const float *b, float *out, int n);
__global__ void matmul_naive(const float *A, const float *B, float *C, int M, int K, int N);
__global__ void matmul_tiled(const float *A, const float *B, float *C, int M, int K, int N);
__global__ void add_bias(float *X, const float *bias, int rows, int cols);
__global__ void relu_forward(const float *x, float *out, int n);
__global__ void relu_backward(const float *x, const float *dout, float *dx, int n);
__global__ void softmax_forward(const float *logits, float *probs, int rows, int cols);
__global__ void softmax_xent_backward(const float *probs, const int *labels, float *dlogits, int rows, int cols);
__global__ void column_sums(const float *X, float *sums, int rows, int cols);
__global__ void transpose(const float *in, float *out, int rows, int cols);
__global__ void sgd_update(float *param, const float *grad, float lr, int n);

// Launch helpers with the default configuration (grids computed from the sizes).
void launch_matmul_tiled(const float *A, const float *B, float *C, int M, int K, int N, cudaStream_t s = 0);
void launch_transpose(const float *in, float *out, int rows, int cols, cudaStream_t s = 0);
