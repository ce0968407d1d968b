"""Naive vs cache-blocked matmul in C, against NumPy (its BLAS), on float32 square matrices.

    python ports/c/benchmark.py [--sizes 128 256 512 1024] [--repeats 5]

Builds the extension into a temporary folder, then times each kernel (median of the repeats, all
kernels interleaved in one run), checks that the results agree, and prints a table and a JSON line.
"""

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def build(out: Path):
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(out), "--build-temp",
                    str(out / "tmp")], cwd=HERE, check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location("dlfs_cmatrix", next(out.glob("dlfs_cmatrix*")))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def median_seconds(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cm = build(Path(tmp))
        rows = []
        print(f"{'n':>5} {'naive s':>10} {'blocked s':>10} {'numpy s':>10} {'naive/blocked':>14} {'blocked/numpy':>14}")
        for n in args.sizes:
            rng = np.random.default_rng(n)
            a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
            np.testing.assert_allclose(cm.matmul(a, b), a @ b, rtol=1e-3, atol=1e-3)
            repeats = max(1, args.repeats if n <= 512 else args.repeats // 2)
            t_naive = median_seconds(lambda: cm.matmul_naive(a, b), repeats)
            t_blocked = median_seconds(lambda: cm.matmul(a, b), repeats)
            t_numpy = median_seconds(lambda: a @ b, repeats)
            rows.append({"n": n, "naive_s": t_naive, "blocked_s": t_blocked, "numpy_s": t_numpy,
                         "gflops_blocked": 2 * n ** 3 / t_blocked / 1e9})
            print(f"{n:>5} {t_naive:>10.4f} {t_blocked:>10.4f} {t_numpy:>10.4f} {t_naive / t_blocked:>14.1f} "
                  f"{t_blocked / t_numpy:>14.1f}")
    print(json.dumps({"matmul_float32": rows}))


if __name__ == "__main__":
    main()
