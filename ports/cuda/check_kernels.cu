// Every kernel of kernels.cu against a CPU reference, at several launch configurations, then timed.
// In the style of llm.c's dev/cuda: a mismatch prints where and exits with status 1; no GPU exits 77.
//
//     make check        (or: ./check_kernels)
#include <cuda_runtime.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.cuh"

#define CUDA_CHECK(call)                                                                              \
    do {                                                                                              \
        cudaError_t e_ = (call);                                                                      \
        if (e_ != cudaSuccess) {                                                                      \
            fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__);    \
            exit(2);                                                                                  \
        }                                                                                             \
    } while (0)

static float *random_floats(size_t n, unsigned seed) {
    float *v = (float *)malloc(n * sizeof(float));
    srand(seed);
    for (size_t i = 0; i < n; i++) v[i] = (float)rand() / RAND_MAX * 2.0f - 1.0f;
    return v;
}

static float *to_device(const float *h, size_t n) {
    float *d;
    CUDA_CHECK(cudaMalloc(&d, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(d, h, n * sizeof(float), cudaMemcpyHostToDevice));
    return d;
}

// Compare n device values with the CPU reference: |gpu - cpu| <= tol * (1 + |cpu|) everywhere.
static void validate(const char *name, const float *d_out, const float *ref, size_t n, float tol) {
    float *h = (float *)malloc(n * sizeof(float));
    CUDA_CHECK(cudaMemcpy(h, d_out, n * sizeof(float), cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++) {
        if (!(fabsf(h[i] - ref[i]) <= tol * (1.0f + fabsf(ref[i])))) {
            fprintf(stderr, "MISMATCH %s at %zu: gpu %.8g cpu %.8g (tolerance %g)\n", name, i, h[i], ref[i], tol);
            exit(1);
        }
    }
    free(h);
}

template <class Launch>
static float time_ms(Launch launch, int repeats = 20) {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    launch();  // warm-up
    cudaEventRecord(start);
    for (int i = 0; i < repeats; i++) launch();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms;
    cudaEventElapsedTime(&ms, start, stop);
    return ms / repeats;
}

static const int BLOCK_SIZES[] = {32, 64, 128, 256, 512, 1024};

static void check_elementwise() {
    const int n = 1 << 20;
    float *a = random_floats(n, 1), *b = random_floats(n, 2), *ref = (float *)malloc(n * sizeof(float));
    float *da = to_device(a, n), *db = to_device(b, n), *dout;
    CUDA_CHECK(cudaMalloc(&dout, n * sizeof(float)));
    for (int t : BLOCK_SIZES) {
        for (int i = 0; i < n; i++) ref[i] = a[i] + b[i];
        vector_add<<<(n + t - 1) / t, t>>>(da, db, dout, n);
        validate("vector_add", dout, ref, n, 1e-6f);
        for (int i = 0; i < n; i++) ref[i] = a[i] > 0 ? a[i] : 0;
        relu_forward<<<(n + t - 1) / t, t>>>(da, dout, n);
        validate("relu_forward", dout, ref, n, 0.0f);
        for (int i = 0; i < n; i++) ref[i] = a[i] > 0 ? b[i] : 0;
        relu_backward<<<(n + t - 1) / t, t>>>(da, db, dout, n);
        validate("relu_backward", dout, ref, n, 0.0f);
    }
    // sgd_update changes its argument: start from a fresh copy for each configuration
    for (int t : BLOCK_SIZES) {
        CUDA_CHECK(cudaMemcpy(dout, a, n * sizeof(float), cudaMemcpyHostToDevice));
        for (int i = 0; i < n; i++) ref[i] = a[i] - 0.1f * b[i];
        sgd_update<<<(n + t - 1) / t, t>>>(dout, db, 0.1f, n);
        validate("sgd_update", dout, ref, n, 1e-6f);
    }
    printf("vector_add, relu_forward, relu_backward, sgd_update: OK at block sizes 32..1024\n");
    for (int t : BLOCK_SIZES)
        printf("  vector_add  block %4d: %.4f ms\n", t,
               time_ms([&] { vector_add<<<(n + t - 1) / t, t>>>(da, db, dout, n); }));
    cudaFree(da), cudaFree(db), cudaFree(dout), free(a), free(b), free(ref);
}

static void check_matmul() {
    const int shapes[][3] = {{1, 1, 1}, {17, 33, 9}, {128, 784, 256}, {255, 100, 10}};  // not multiples of TILE
    for (auto &s : shapes) {
        int M = s[0], K = s[1], N = s[2];
        float *A = random_floats((size_t)M * K, 3), *B = random_floats((size_t)K * N, 4);
        float *ref = (float *)calloc((size_t)M * N, sizeof(float));
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++)
                for (int j = 0; j < N; j++) ref[i * N + j] += A[i * K + k] * B[k * N + j];
        float *dA = to_device(A, (size_t)M * K), *dB = to_device(B, (size_t)K * N), *dC;
        CUDA_CHECK(cudaMalloc(&dC, (size_t)M * N * sizeof(float)));
        for (int edge : {8, 16, 32}) {
            dim3 block(edge, edge), grid((N + edge - 1) / edge, (M + edge - 1) / edge);
            matmul_naive<<<grid, block>>>(dA, dB, dC, M, K, N);
            validate("matmul_naive", dC, ref, (size_t)M * N, 1e-4f);
        }
        launch_matmul_tiled(dA, dB, dC, M, K, N);
        validate("matmul_tiled", dC, ref, (size_t)M * N, 1e-4f);
        if (M == 128) {
            dim3 block(16, 16), grid((N + 15) / 16, (M + 15) / 16);
            float naive = time_ms([&] { matmul_naive<<<grid, block>>>(dA, dB, dC, M, K, N); });
            float tiled = time_ms([&] { launch_matmul_tiled(dA, dB, dC, M, K, N); });
            printf("  matmul %dx%dx%d: naive %.4f ms, tiled %.4f ms\n", M, K, N, naive, tiled);
        }
        cudaFree(dA), cudaFree(dB), cudaFree(dC), free(A), free(B), free(ref);
    }
    printf("matmul_naive (tiles 8, 16, 32), matmul_tiled: OK on 4 shapes\n");
}

static void check_softmax_and_reductions() {
    const int rows = 300, cols = 10;
    float *x = random_floats(rows * cols, 5), *ref = (float *)malloc(rows * cols * sizeof(float));
    for (int i = 0; i < rows * cols; i++) x[i] *= 30.0f;  // large logits: the max subtraction matters
    for (int r = 0; r < rows; r++) {
        float m = -INFINITY, s = 0;
        for (int j = 0; j < cols; j++) m = fmaxf(m, x[r * cols + j]);
        for (int j = 0; j < cols; j++) s += expf(x[r * cols + j] - m);
        for (int j = 0; j < cols; j++) ref[r * cols + j] = expf(x[r * cols + j] - m) / s;
    }
    float *dx = to_device(x, rows * cols), *dp;
    CUDA_CHECK(cudaMalloc(&dp, rows * cols * sizeof(float)));
    for (int t : BLOCK_SIZES) {
        softmax_forward<<<rows, t, t * sizeof(float)>>>(dx, dp, rows, cols);
        validate("softmax_forward", dp, ref, rows * cols, 1e-5f);
    }
    int labels[rows];
    for (int r = 0; r < rows; r++) labels[r] = r % cols;
    float *grad = (float *)malloc(rows * cols * sizeof(float));
    for (int i = 0; i < rows * cols; i++) grad[i] = (ref[i] - ((i % cols) == labels[i / cols] ? 1.0f : 0.0f)) / rows;
    int *dlabels;
    CUDA_CHECK(cudaMalloc(&dlabels, sizeof(labels)));
    CUDA_CHECK(cudaMemcpy(dlabels, labels, sizeof(labels), cudaMemcpyHostToDevice));
    float *dgrad;
    CUDA_CHECK(cudaMalloc(&dgrad, rows * cols * sizeof(float)));
    softmax_xent_backward<<<(rows * cols + 255) / 256, 256>>>(dp, dlabels, dgrad, rows, cols);
    validate("softmax_xent_backward", dgrad, grad, rows * cols, 1e-5f);

    float sums[cols] = {0};
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) sums[j] += x[r * cols + j];
    float *dsums;
    CUDA_CHECK(cudaMalloc(&dsums, cols * sizeof(float)));
    for (int t : {32, 256}) {
        column_sums<<<(cols + t - 1) / t, t>>>(dx, dsums, rows, cols);
        validate("column_sums", dsums, sums, cols, 1e-4f);
    }
    float *xT = (float *)malloc(rows * cols * sizeof(float)), *dT;
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++) xT[j * rows + r] = x[r * cols + j];
    CUDA_CHECK(cudaMalloc(&dT, rows * cols * sizeof(float)));
    launch_transpose(dx, dT, rows, cols);
    validate("transpose", dT, xT, rows * cols, 0.0f);
    printf("softmax_forward (blocks 32..1024), softmax_xent_backward, column_sums, transpose: OK\n");
    cudaFree(dx), cudaFree(dp), cudaFree(dlabels), cudaFree(dgrad), cudaFree(dsums), cudaFree(dT);
    free(x), free(ref), free(grad), free(xT);
}

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        printf("no CUDA device: the kernels were compiled, not run\n");
        return 77;
    }
    cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    printf("device: %s\n", prop.name);
    check_elementwise();
    check_matmul();
    check_softmax_and_reductions();
    CUDA_CHECK(cudaDeviceSynchronize());
    printf("all kernels match their CPU references\n");
    return 0;
}
