"""Builds the extension once per test session, from these sources, with this interpreter.

The build goes to a temporary folder (never into the source tree). Extra compiler flags come from
CFLAGS, which is how .ci/run builds it once under AddressSanitizer. Where no C compiler, Python headers
or setuptools are available the tests are skipped with the reason; under CI they fail instead.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"CI must build the C extension: {reason}", pytrace=False)
    pytest.skip(f"the C extension cannot be built here: {reason}")


@pytest.fixture(scope="session")
def cmatrix(tmp_path_factory):
    if importlib.util.find_spec("setuptools") is None:
        _unavailable("setuptools is not installed (pip install setuptools)")
    out = tmp_path_factory.mktemp("cmatrix-build")
    proc = subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(out),
                           "--build-temp", str(out / "tmp")], cwd=SOURCE, capture_output=True, text=True)
    if proc.returncode != 0:
        _unavailable(f"setup.py build_ext failed:\n{proc.stderr[-2000:]}")
    library = next(out.glob("dlfs_cmatrix*.so"), None) or next(out.glob("dlfs_cmatrix*.pyd"), None)
    spec = importlib.util.spec_from_file_location("dlfs_cmatrix", library)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
