/* dlfs_cmatrix: the C matrix library as a CPython extension.
 *
 * Arrays come in through the buffer protocol (a NumPy float32 array, or anything else exporting a
 * 2-D C-contiguous float buffer) and are wrapped, never copied through lists. Results are new NumPy
 * arrays whose buffers the C code fills in place. Wrong dtypes, shapes or layouts raise TypeError or
 * ValueError with a message that says what to pass instead; nothing is read or written out of bounds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <string.h>

#include "matrix.h"

static PyObject *numpy_empty; /* numpy.empty, looked up once at import */

/* A borrowed float32 matrix view of a Python object; release with PyBuffer_Release(&b->view). */
typedef struct {
    Py_buffer view;
    Matrix m;
} Borrowed;

static int is_float32_format(const char *format) {
    if (!format) return 0;
    if (format[0] == '<' || format[0] == '=' || format[0] == '@') format++;
    return strcmp(format, "f") == 0;
}

/* ndim: 2 for a matrix, 1 for a vector (seen as one row). Returns 0, or -1 with an exception set. */
static int borrow(PyObject *obj, const char *name, int ndim, int writable, Borrowed *out) {
    int flags = PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &out->view, flags) < 0) {
        PyErr_Format(PyExc_TypeError, "%s must be an array exporting a buffer (a NumPy float32 array), got %s",
                     name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_buffer *v = &out->view;
    if (!is_float32_format(v->format) || v->itemsize != 4) {
        PyErr_Format(PyExc_TypeError, "%s must hold float32 values (format 'f'), got format '%s': "
                     "use x.astype(np.float32)", name, v->format ? v->format : "?");
        goto fail;
    }
    if (v->ndim != ndim) {
        PyErr_Format(PyExc_ValueError, "%s must be %d-D, got %d-D", name, ndim, v->ndim);
        goto fail;
    }
    if (!PyBuffer_IsContiguous(v, 'C')) {
        PyErr_Format(PyExc_ValueError, "%s must be C-contiguous (a transposed or sliced view is not): "
                     "pass np.ascontiguousarray(%s)", name, name);
        goto fail;
    }
    size_t rows = ndim == 2 ? (size_t)v->shape[0] : 1;
    size_t cols = ndim == 2 ? (size_t)v->shape[1] : (size_t)v->shape[0];
    out->m = matrix_wrap((float *)v->buf, rows, cols);
    return 0;
fail:
    PyBuffer_Release(v);
    return -1;
}

/* A new NumPy array of the given shape and dtype, borrowed as a writable matrix into *out. */
static PyObject *new_array(size_t rows, size_t cols, const char *dtype, Borrowed *out) {
    PyObject *result = PyObject_CallFunction(numpy_empty, "((nn)s)", (Py_ssize_t)rows, (Py_ssize_t)cols, dtype);
    if (!result) return NULL;
    if (PyObject_GetBuffer(result, &out->view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        Py_DECREF(result);
        return NULL;
    }
    out->m = matrix_wrap((float *)out->view.buf, rows, cols);
    return result;
}

typedef int (*binary_op)(const Matrix *, const Matrix *, Matrix *);

/* a (op) b for the element-wise operations (equal shapes, no broadcasting) and for matmul ((M, K) @ (K, N)). */
static PyObject *binary(PyObject *args, binary_op op, const char *what, int is_matmul) {
    PyObject *oa, *ob, *result = NULL;
    Borrowed a, b, out;
    if (!PyArg_ParseTuple(args, "OO", &oa, &ob)) return NULL;
    if (borrow(oa, "a", 2, 0, &a) < 0) return NULL;
    if (borrow(ob, "b", 2, 0, &b) < 0) goto done_a;
    if (is_matmul && a.m.cols != b.m.rows) {
        PyErr_Format(PyExc_ValueError, "%s: a is (%zu, %zu) and b is (%zu, %zu): a's columns must equal b's rows",
                     what, a.m.rows, a.m.cols, b.m.rows, b.m.cols);
        goto done_b;
    }
    if (!is_matmul && (a.m.rows != b.m.rows || a.m.cols != b.m.cols)) {
        PyErr_Format(PyExc_ValueError, "%s needs equal shapes (no broadcasting), got (%zu, %zu) and (%zu, %zu)",
                     what, a.m.rows, a.m.cols, b.m.rows, b.m.cols);
        goto done_b;
    }
    result = new_array(a.m.rows, is_matmul ? b.m.cols : a.m.cols, "float32", &out);
    if (result) {
        Py_BEGIN_ALLOW_THREADS
        op(&a.m, &b.m, &out.m);
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&out.view);
    }
done_b:
    PyBuffer_Release(&b.view);
done_a:
    PyBuffer_Release(&a.view);
    return result;
}

static PyObject *py_add(PyObject *self, PyObject *args) { return binary(args, matrix_add, "add", 0); }
static PyObject *py_sub(PyObject *self, PyObject *args) { return binary(args, matrix_sub, "sub", 0); }
static PyObject *py_mul(PyObject *self, PyObject *args) { return binary(args, matrix_mul, "mul", 0); }

static PyObject *py_matmul(PyObject *self, PyObject *args) {
    return binary(args, matrix_matmul_blocked, "matmul", 1);
}
static PyObject *py_matmul_naive(PyObject *self, PyObject *args) {
    return binary(args, matrix_matmul_naive, "matmul_naive", 1);
}

static PyObject *py_transpose(PyObject *self, PyObject *args) {
    PyObject *oa, *result;
    Borrowed a, out;
    if (!PyArg_ParseTuple(args, "O", &oa)) return NULL;
    if (borrow(oa, "a", 2, 0, &a) < 0) return NULL;
    result = new_array(a.m.cols, a.m.rows, "float32", &out);
    if (result) {
        matrix_transpose(&a.m, &out.m);
        PyBuffer_Release(&out.view);
    }
    PyBuffer_Release(&a.view);
    return result;
}

static float f_tanh(float x) { return tanhf(x); }
static float f_exp(float x) { return expf(x); }

static PyObject *py_apply(PyObject *self, PyObject *args) {
    PyObject *oa, *result;
    const char *name;
    float (*fn)(float) = NULL;
    Borrowed a, out;
    if (!PyArg_ParseTuple(args, "Os", &oa, &name)) return NULL;
    if (strcmp(name, "relu") == 0) fn = matrix_relu;
    else if (strcmp(name, "sigmoid") == 0) fn = matrix_sigmoid;
    else if (strcmp(name, "tanh") == 0) fn = f_tanh;
    else if (strcmp(name, "exp") == 0) fn = f_exp;
    else {
        PyErr_Format(PyExc_ValueError, "unknown function '%s': use relu, sigmoid, tanh or exp", name);
        return NULL;
    }
    if (borrow(oa, "a", 2, 0, &a) < 0) return NULL;
    result = new_array(a.m.rows, a.m.cols, "float32", &out);
    if (result) {
        Py_BEGIN_ALLOW_THREADS
        matrix_apply(&a.m, fn, &out.m);
        Py_END_ALLOW_THREADS
        PyBuffer_Release(&out.view);
    }
    PyBuffer_Release(&a.view);
    return result;
}

/* mlp_predict(x, weights, biases): class indices of an MLP (Linear -> ReLU -> ... -> Linear), argmax of the
 * logits. x (N, D0); weights[l] (D_l, D_l+1) as Topic 06's Linear stores them; biases[l] (D_l+1,). */
static PyObject *py_mlp_predict(PyObject *self, PyObject *args) {
    PyObject *ox, *oweights, *obiases, *result = NULL;
    if (!PyArg_ParseTuple(args, "OOO", &ox, &oweights, &obiases)) return NULL;
    if (!PyList_Check(oweights) || !PyList_Check(obiases) || PyList_GET_SIZE(oweights) != PyList_GET_SIZE(obiases)
        || PyList_GET_SIZE(oweights) == 0) {
        PyErr_SetString(PyExc_ValueError, "weights and biases must be lists of the same, non-zero length");
        return NULL;
    }
    Py_ssize_t L = PyList_GET_SIZE(oweights);
    Borrowed x;
    if (borrow(ox, "x", 2, 0, &x) < 0) return NULL;
    Borrowed *w = PyMem_Calloc((size_t)L, sizeof(Borrowed)), *b = PyMem_Calloc((size_t)L, sizeof(Borrowed));
    Matrix *h = NULL, *next = NULL;
    Py_ssize_t got_w = 0, got_b = 0;
    if (!w || !b) {
        PyErr_NoMemory();
        goto done;
    }
    size_t width = x.m.cols;
    for (Py_ssize_t l = 0; l < L; l++) {
        if (borrow(PyList_GET_ITEM(oweights, l), "weights[l]", 2, 0, &w[l]) < 0) goto done;
        got_w++;
        if (borrow(PyList_GET_ITEM(obiases, l), "biases[l]", 1, 0, &b[l]) < 0) goto done;
        got_b++;
        if (w[l].m.rows != width || b[l].m.cols != w[l].m.cols) {
            PyErr_Format(PyExc_ValueError, "layer %zd: weight (%zu, %zu) and bias (%zu,) do not follow a (N, %zu) input",
                         l, w[l].m.rows, w[l].m.cols, b[l].m.cols, width);
            goto done;
        }
        width = w[l].m.cols;
    }
    if (width == 0) {
        PyErr_SetString(PyExc_ValueError, "the last layer has no outputs to take the argmax of");
        goto done;
    }
    PyObject *np_result = PyObject_CallFunction(numpy_empty, "(n)s", (Py_ssize_t)x.m.rows, "int64");
    if (!np_result) goto done;
    Py_buffer pred;
    if (PyObject_GetBuffer(np_result, &pred, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE) < 0) {
        Py_DECREF(np_result);
        goto done;
    }
    int failed = 0;
    const Matrix *input = &x.m;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t l = 0; l < L && !failed; l++) {
        next = matrix_create(input->rows, w[l].m.cols);
        if (!next) { failed = 1; break; }
        matrix_matmul_blocked(input, &w[l].m, next);
        matrix_add_row(next, b[l].m.data);
        if (l + 1 < L) matrix_apply(next, matrix_relu, next);
        matrix_free(h);
        h = next;
        next = NULL;
        input = h;
    }
    if (!failed) matrix_argmax_rows(h, (int64_t *)pred.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&pred);
    if (failed) {
        Py_DECREF(np_result);
        PyErr_NoMemory();
    } else {
        result = np_result;
    }
done:
    matrix_free(h);
    for (Py_ssize_t l = 0; l < got_w; l++) PyBuffer_Release(&w[l].view);
    for (Py_ssize_t l = 0; l < got_b; l++) PyBuffer_Release(&b[l].view);
    PyMem_Free(w);
    PyMem_Free(b);
    PyBuffer_Release(&x.view);
    return result;
}

static PyMethodDef methods[] = {
    {"add", py_add, METH_VARARGS, "add(a, b) -> a + b, element-wise, for float32 matrices of equal shape"},
    {"sub", py_sub, METH_VARARGS, "sub(a, b) -> a - b, element-wise"},
    {"mul", py_mul, METH_VARARGS, "mul(a, b) -> a * b, element-wise"},
    {"matmul", py_matmul, METH_VARARGS, "matmul(a, b) -> a @ b with the cache-blocked kernel"},
    {"matmul_naive", py_matmul_naive, METH_VARARGS, "matmul_naive(a, b) -> a @ b with the triple loop"},
    {"transpose", py_transpose, METH_VARARGS, "transpose(a) -> a.T as a new C-contiguous array"},
    {"apply", py_apply, METH_VARARGS, "apply(a, name) -> name(a) element-wise; name: relu, sigmoid, tanh, exp"},
    {"mlp_predict", py_mlp_predict, METH_VARARGS,
     "mlp_predict(x, weights, biases) -> int64 class indices of a Linear-ReLU-...-Linear network"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "dlfs_cmatrix",
                                    "Row-major float32 matrices in C, over NumPy buffers.", -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_dlfs_cmatrix(void) {
    PyObject *numpy = PyImport_ImportModule("numpy");
    if (!numpy) return NULL;
    numpy_empty = PyObject_GetAttrString(numpy, "empty");
    Py_DECREF(numpy);
    if (!numpy_empty) return NULL;
    return PyModule_Create(&module);
}
