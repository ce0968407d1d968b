"""Build the C extension: `python -m pip install ./ports/c` (or, to build in place for the tests,
`python ports/c/setup.py build_ext --inplace`). Extra flags come from CFLAGS, e.g. AddressSanitizer:
CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" (see ports/c/README.md)."""

from setuptools import Extension, setup

setup(
    name="dlfs-cmatrix",
    version="0.1.0",
    description="dl-from-scratch ports track: a float32 matrix library in C as a Python extension",
    ext_modules=[Extension("dlfs_cmatrix", sources=["src/matrix.c", "src/cmatrix_module.c"], include_dirs=["src"],
                           extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra", "-Wno-unused-parameter"])],
    py_modules=[],
)
