// Kernels of the ports track's GPU MNIST network (see README.md). Each one has a CPU reference and a
// check in check_kernels.cu.
#include "kernels.cuh"

#include <float.h>

// One thread per element.
__global__ void vector_add(const float *a, const float *b, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = a[i] + b[i];
}

// One thread per output element; every thread reads a whole row of A and a column of B from global memory.
__global__ void matmul_naive(const float *A, const float *B, float *C, int M, int K, int N) {
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= M || col >= N) return;
    float sum = 0.0f;
    for (int k = 0; k < K; k++) sum += A[row * K + k] * B[k * N + col];
    C[row * N + col] = sum;
}

// The block loads a TILE x TILE tile of A and of B into shared memory, then every thread accumulates
// TILE products from there: each global value is read once per tile instead of once per output.
// Threads outside the matrix load zeros, so the sizes need not be multiples of TILE.
__global__ void matmul_tiled(const float *A, const float *B, float *C, int M, int K, int N) {
    __shared__ float As[TILE][TILE];
    __shared__ float Bs[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y;
    int col = blockIdx.x * TILE + threadIdx.x;
    float sum = 0.0f;
    for (int t = 0; t < (K + TILE - 1) / TILE; t++) {
        int a_col = t * TILE + threadIdx.x;
        int b_row = t * TILE + threadIdx.y;
        As[threadIdx.y][threadIdx.x] = (row < M && a_col < K) ? A[row * K + a_col] : 0.0f;
        Bs[threadIdx.y][threadIdx.x] = (b_row < K && col < N) ? B[b_row * N + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < TILE; k++) sum += As[threadIdx.y][k] * Bs[k][threadIdx.x];
        __syncthreads();  // the next tile must not overwrite values still being read
    }
    if (row < M && col < N) C[row * N + col] = sum;
}

__global__ void add_bias(float *X, const float *bias, int rows, int cols) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < rows * cols) X[i] += bias[i % cols];
}

__global__ void relu_forward(const float *x, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

// The gradient passes where the input was positive (0 at exactly 0, as PyTorch).
__global__ void relu_backward(const float *x, const float *dout, float *dx, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) dx[i] = x[i] > 0.0f ? dout[i] : 0.0f;
}

// One block per row. Two block reductions in shared memory: the row's maximum (subtracted so that exp
// cannot overflow), then the sum of the exponentials. blockDim.x must be a power of two.
__global__ void softmax_forward(const float *logits, float *probs, int rows, int cols) {
    extern __shared__ float shared[];
    int row = blockIdx.x;
    if (row >= rows) return;
    const float *x = logits + row * cols;
    float *p = probs + row * cols;

    float local_max = -FLT_MAX;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) local_max = fmaxf(local_max, x[j]);
    shared[threadIdx.x] = local_max;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) shared[threadIdx.x] = fmaxf(shared[threadIdx.x], shared[threadIdx.x + stride]);
        __syncthreads();
    }
    float row_max = shared[0];
    __syncthreads();  // everyone has read the maximum before the slots are reused for the sum

    float local_sum = 0.0f;
    for (int j = threadIdx.x; j < cols; j += blockDim.x) {
        float e = expf(x[j] - row_max);
        p[j] = e;
        local_sum += e;
    }
    shared[threadIdx.x] = local_sum;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (threadIdx.x < stride) shared[threadIdx.x] += shared[threadIdx.x + stride];
        __syncthreads();
    }
    float inv_sum = 1.0f / shared[0];
    for (int j = threadIdx.x; j < cols; j += blockDim.x) p[j] *= inv_sum;
}

// d(mean cross-entropy)/d(logits) = (softmax - one_hot(label)) / rows.
__global__ void softmax_xent_backward(const float *probs, const int *labels, float *dlogits, int rows, int cols) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= rows * cols) return;
    int row = i / cols, col = i % cols;
    dlogits[i] = (probs[i] - (col == labels[row] ? 1.0f : 0.0f)) / rows;
}

// One thread per column: the bias gradient is the upstream gradient summed over the batch.
__global__ void column_sums(const float *X, float *sums, int rows, int cols) {
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols) return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++) s += X[r * cols + col];  // neighbouring threads read neighbouring columns
    sums[col] = s;
}

// Through a shared tile, so that both the read and the write are coalesced; +1 column avoids bank conflicts.
__global__ void transpose(const float *in, float *out, int rows, int cols) {
    __shared__ float tile[TILE][TILE + 1];
    int x = blockIdx.x * TILE + threadIdx.x, y = blockIdx.y * TILE + threadIdx.y;
    if (x < cols && y < rows) tile[threadIdx.y][threadIdx.x] = in[y * cols + x];
    __syncthreads();
    x = blockIdx.y * TILE + threadIdx.x;
    y = blockIdx.x * TILE + threadIdx.y;
    if (x < rows && y < cols) out[y * rows + x] = tile[threadIdx.x][threadIdx.y];
}

__global__ void sgd_update(float *param, const float *grad, float lr, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) param[i] -= lr * grad[i];
}

void launch_matmul_tiled(const float *A, const float *B, float *C, int M, int K, int N, cudaStream_t s) {
    dim3 block(TILE, TILE), grid((N + TILE - 1) / TILE, (M + TILE - 1) / TILE);
    matmul_tiled<<<grid, block, 0, s>>>(A, B, C, M, K, N);
}

void launch_transpose(const float *in, float *out, int rows, int cols, cudaStream_t s) {
    dim3 block(TILE, TILE), grid((cols + TILE - 1) / TILE, (rows + TILE - 1) / TILE);
    transpose<<<grid, block, 0, s>>>(in, out, rows, cols);
}
