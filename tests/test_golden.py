"""Level 4 (PyTorch) still reproduces the golden files the value tests use."""

import importlib.util
import os

import numpy as np
import pytest

from dlfs.components import load_module
from dlfs.curriculum import available_topics

TOPICS = [t for t in available_topics() if list((t.tests_dir / "golden").glob("*.npz"))]
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def test_golden_files_exist_for_every_topic():
    assert [t.number for t in TOPICS] == [t.number for t in available_topics()], "a topic has no tests/golden/*.npz"


@pytest.mark.parametrize("topic", TOPICS, ids=[f"topic{t.number:02d}" for t in TOPICS])
def test_level4_reproduces_golden_files(topic):
    if not HAVE_TORCH:
        if os.environ.get("CI"):
            pytest.fail("PyTorch must be installed in CI (pip install -r requirements-dev.txt)")
        pytest.skip("PyTorch not installed: golden files not re-derived")
    fresh = load_module(topic.level_file(4)).make_golden()
    stored = {p.stem: p for p in (topic.tests_dir / "golden").glob("*.npz")}
    assert set(fresh) == set(stored), f"make_golden() files {sorted(fresh)} != stored {sorted(stored)}"
    for name, arrays in fresh.items():
        with np.load(stored[name], allow_pickle=False) as data:
            assert set(arrays) == set(data.files), f"{name}.npz arrays differ"
            for key, value in arrays.items():
                np.testing.assert_allclose(np.asarray(value), data[key], rtol=1e-5, atol=1e-7,
                                           err_msg=f"{topic.folder_name} golden {name}.npz[{key}]")
