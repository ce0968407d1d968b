// A 2-layer MNIST network (Linear -> ReLU -> Linear -> softmax cross-entropy) trained on the GPU with
// the kernels of kernels.cu, behind a C API that nn_gpu.py calls through ctypes.
//
// The parameters and every activation stay on the device between calls; a training step copies one
// batch in and one float (the loss) out.
#include <cuda_runtime.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels.cuh"

#define CHECK(call)                                                                        \
    do {                                                                                   \
        cudaError_t err_ = (call);                                                         \
        if (err_ != cudaSuccess) {                                                         \
            fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(err_), __FILE__, __LINE__); \
            return -1;                                                                     \
        }                                                                                  \
    } while (0)

struct Net {
    int in, hidden, out, max_batch;
    float *W1, *b1, *W2, *b2;                    // parameters: W1 (in, hidden), W2 (hidden, out)
    float *dW1, *db1, *dW2, *db2;                // their gradients
    float *x, *z1, *a1, *logits, *probs;         // activations of one batch
    float *dlogits, *da1, *dz1, *xT, *a1T, *W2T; // backward scratch
    int *labels;
};

static int blocks(int n, int threads) { return (n + threads - 1) / threads; }

extern "C" int dlfs_cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
    return n;
}

extern "C" void net_free(Net *net) {
    if (!net) return;
    float *buffers[] = {net->W1, net->b1, net->W2, net->b2, net->dW1, net->db1, net->dW2, net->db2, net->x,
                        net->z1, net->a1, net->logits, net->probs, net->dlogits, net->da1, net->dz1, net->xT,
                        net->a1T, net->W2T};
    for (float *p : buffers) cudaFree(p);
    cudaFree(net->labels);
    free(net);
}

// params: W1, b1, W2, b2 concatenated on the host (float32), as nn_gpu.py lays them out.
extern "C" Net *net_create(int in, int hidden, int out, int max_batch, const float *params) {
    Net *net = (Net *)calloc(1, sizeof(Net));
    if (!net) return NULL;
    net->in = in, net->hidden = hidden, net->out = out, net->max_batch = max_batch;
    struct { float **p; size_t n; } sizes[] = {
        {&net->W1, (size_t)in * hidden}, {&net->b1, (size_t)hidden}, {&net->W2, (size_t)hidden * out},
        {&net->b2, (size_t)out}, {&net->dW1, (size_t)in * hidden}, {&net->db1, (size_t)hidden},
        {&net->dW2, (size_t)hidden * out}, {&net->db2, (size_t)out}, {&net->x, (size_t)max_batch * in},
        {&net->z1, (size_t)max_batch * hidden}, {&net->a1, (size_t)max_batch * hidden},
        {&net->logits, (size_t)max_batch * out}, {&net->probs, (size_t)max_batch * out},
        {&net->dlogits, (size_t)max_batch * out}, {&net->da1, (size_t)max_batch * hidden},
        {&net->dz1, (size_t)max_batch * hidden}, {&net->xT, (size_t)max_batch * in},
        {&net->a1T, (size_t)max_batch * hidden}, {&net->W2T, (size_t)hidden * out}};
    for (auto &s : sizes)
        if (cudaMalloc(s.p, s.n * sizeof(float)) != cudaSuccess) { net_free(net); return NULL; }
    if (cudaMalloc(&net->labels, (size_t)max_batch * sizeof(int)) != cudaSuccess) { net_free(net); return NULL; }
    size_t offset = 0;
    float *targets[] = {net->W1, net->b1, net->W2, net->b2};
    size_t counts[] = {(size_t)in * hidden, (size_t)hidden, (size_t)hidden * out, (size_t)out};
    for (int i = 0; i < 4; i++) {
        if (cudaMemcpy(targets[i], params + offset, counts[i] * sizeof(float), cudaMemcpyHostToDevice) != cudaSuccess) {
            net_free(net);
            return NULL;
        }
        offset += counts[i];
    }
    return net;
}

extern "C" int net_get_params(Net *net, float *params) {
    float *sources[] = {net->W1, net->b1, net->W2, net->b2};
    size_t counts[] = {(size_t)net->in * net->hidden, (size_t)net->hidden, (size_t)net->hidden * net->out,
                       (size_t)net->out};
    size_t offset = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(cudaMemcpy(params + offset, sources[i], counts[i] * sizeof(float), cudaMemcpyDeviceToHost));
        offset += counts[i];
    }
    return 0;
}

static int forward(Net *net, const float *x_host, int n) {
    const int T = 256;
    CHECK(cudaMemcpy(net->x, x_host, (size_t)n * net->in * sizeof(float), cudaMemcpyHostToDevice));
    launch_matmul_tiled(net->x, net->W1, net->z1, n, net->in, net->hidden);
    add_bias<<<blocks(n * net->hidden, T), T>>>(net->z1, net->b1, n, net->hidden);
    relu_forward<<<blocks(n * net->hidden, T), T>>>(net->z1, net->a1, n * net->hidden);
    launch_matmul_tiled(net->a1, net->W2, net->logits, n, net->hidden, net->out);
    add_bias<<<blocks(n * net->out, T), T>>>(net->logits, net->b2, n, net->out);
    softmax_forward<<<n, 32, 32 * sizeof(float)>>>(net->logits, net->probs, n, net->out);
    CHECK(cudaGetLastError());
    return 0;
}

// One SGD step on a batch of n <= max_batch samples; writes the batch's mean cross-entropy to *loss.
extern "C" int net_train_batch(Net *net, const float *x_host, const int *y_host, int n, float lr, float *loss) {
    if (n < 1 || n > net->max_batch) return -2;
    const int T = 256;
    if (forward(net, x_host, n) < 0) return -1;
    CHECK(cudaMemcpy(net->labels, y_host, (size_t)n * sizeof(int), cudaMemcpyHostToDevice));

    softmax_xent_backward<<<blocks(n * net->out, T), T>>>(net->probs, net->labels, net->dlogits, n, net->out);
    launch_transpose(net->a1, net->a1T, n, net->hidden);                             // (hidden, n)
    launch_matmul_tiled(net->a1T, net->dlogits, net->dW2, net->hidden, n, net->out);  // a1^T @ dlogits
    column_sums<<<blocks(net->out, T), T>>>(net->dlogits, net->db2, n, net->out);
    launch_transpose(net->W2, net->W2T, net->hidden, net->out);                      // (out, hidden)
    launch_matmul_tiled(net->dlogits, net->W2T, net->da1, n, net->out, net->hidden);  // dlogits @ W2^T
    relu_backward<<<blocks(n * net->hidden, T), T>>>(net->z1, net->da1, net->dz1, n * net->hidden);
    launch_transpose(net->x, net->xT, n, net->in);                                   // (in, n)
    launch_matmul_tiled(net->xT, net->dz1, net->dW1, net->in, n, net->hidden);        // x^T @ dz1
    column_sums<<<blocks(net->hidden, T), T>>>(net->dz1, net->db1, n, net->hidden);

    sgd_update<<<blocks(net->in * net->hidden, T), T>>>(net->W1, net->dW1, lr, net->in * net->hidden);
    sgd_update<<<blocks(net->hidden, T), T>>>(net->b1, net->db1, lr, net->hidden);
    sgd_update<<<blocks(net->hidden * net->out, T), T>>>(net->W2, net->dW2, lr, net->hidden * net->out);
    sgd_update<<<blocks(net->out, T), T>>>(net->b2, net->db2, lr, net->out);
    CHECK(cudaGetLastError());

    // the loss is read back from the probabilities of the true classes (n floats, not the whole batch)
    float *probs = (float *)malloc((size_t)n * net->out * sizeof(float));
    if (!probs) return -1;
    if (cudaMemcpy(probs, net->probs, (size_t)n * net->out * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) {
        free(probs);
        return -1;
    }
    double total = 0.0;
    for (int i = 0; i < n; i++) total -= log(fmax(probs[i * net->out + y_host[i]], 1e-30));
    free(probs);
    *loss = (float)(total / n);
    return 0;
}

// Class indices (argmax of the probabilities) for n samples, in batches of max_batch.
extern "C" int net_predict(Net *net, const float *x_host, int n, int64_t *out_host) {
    float *probs = (float *)malloc((size_t)net->max_batch * net->out * sizeof(float));
    if (!probs) return -1;
    for (int start = 0; start < n; start += net->max_batch) {
        int m = n - start < net->max_batch ? n - start : net->max_batch;
        if (forward(net, x_host + (size_t)start * net->in, m) < 0 ||
            cudaMemcpy(probs, net->probs, (size_t)m * net->out * sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess) {
            free(probs);
            return -1;
        }
        for (int i = 0; i < m; i++) {
            int best = 0;
            for (int j = 1; j < net->out; j++)
                if (probs[i * net->out + j] > probs[i * net->out + best]) best = j;
            out_host[start + i] = best;
        }
    }
    free(probs);
    return 0;
}
