"""Tests for utils/datasets.py: real data (when DLFS_DATA is set), downloads, IDX, CIFAR, batches.

Downloads are tested against a local http.server on 127.0.0.1 with patched URL tables, so no
test needs the network. Every test gets its own user cache (XDG_CACHE_HOME in a temp dir).
"""

import gzip
import hashlib
import http.server
import io
import os
import pickle
import socket
import struct
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

from dlfs import datasets as ds
from dlfs.datasets import (
    BatchIterator,
    DatasetCorruptError,
    DatasetNotFoundError,
    RemoteFile,
    RestrictedUnpickler,
    epoch_permutation,
)

SHARED = os.environ.get("DLFS_DATA", "")
needs_real_data = pytest.mark.skipif(
    not SHARED, reason="DLFS_DATA is not set: these tests check the real files of a data directory "
                       "(python -m dlfs.datasets --download all fills one; then set DLFS_DATA to it)"
)


@pytest.fixture(autouse=True)
def isolated_cache(monkeypatch, tmp_path):
    """A fresh user cache per test, and no remembered checksums from earlier tests."""
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setattr(ds, "_verified_memo", {})
    return cache_home / ds.CACHE_NAME


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pin(monkeypatch, folder: str, files: dict, urls=lambda name: ()) -> None:
    """Replace REMOTE_FILES[folder] by `files` {name: bytes}, each downloadable from urls(name)."""
    remotes = tuple(RemoteFile(name, sha256(content), tuple(urls(name))) for name, content in files.items())
    monkeypatch.setitem(ds.REMOTE_FILES, folder, remotes)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --------------------------------------------------------------------------------------------
# Real data (CI sets DLFS_DATA)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("real-cache")))
        yield


@pytest.fixture(scope="module")
def real_mnist(real_cache):
    return ds.load_mnist(download=False)


@needs_real_data
def test_real_mnist_shapes_dtypes_labels(real_mnist):
    x_train, y_train, x_test, y_test = real_mnist
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == x_test.dtype == y_train.dtype == y_test.dtype == np.uint8
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert y_train.min() == 0 and y_train.max() == 9 and set(np.unique(y_test)) == set(range(10))
    assert y_train[0] == 5 and y_test[0] == 7
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert x_train.max() == 255 and abs(x_train.mean() / 255 - 0.1307) < 1e-3


@needs_real_data
def test_real_mnist_flatten_normalize_and_subset(real_mnist, real_cache):
    x_train, _, x_test, _ = ds.load_mnist(download=False, flatten=True, normalize=True)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and x_train.min() == 0.0 and x_train.max() == 1.0
    np.testing.assert_allclose(x_train[0], real_mnist[0][0].reshape(-1) / 255, rtol=1e-6)
    xs, ys, xt, yt = ds.load_mnist_subset(1000, seed=0, download=False)
    assert xs.shape == (1000, 28, 28) and ys.shape == (1000,) and xt.shape == (1000, 28, 28)
    assert len(np.unique(ys)) == 10


@needs_real_data
def test_real_cifar10_shapes_and_class_counts(real_cache):
    x_train, y_train, x_test, y_test = ds.load_cifar10(download=False)
    assert x_train.shape == (50000, 32, 32, 3) and x_test.shape == (10000, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train, minlength=10).tolist() == [5000] * 10
    assert np.bincount(y_test, minlength=10).tolist() == [1000] * 10
    assert len(ds.CIFAR10_CLASSES) == 10


@needs_real_data
def test_real_tinyshakespeare(real_cache):
    text = ds.load_tinyshakespeare(download=False)
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:")


@needs_real_data
def test_real_fra_eng(real_cache):
    pairs = ds.load_fra_eng(download=False)
    assert len(pairs) == 142_787
    assert pairs[0] == ("Go.", "Va !")
    assert all(len(p) == 2 and p[0] and p[1] for p in pairs)
    assert ds.load_fra_eng(download=False, max_pairs=5) == pairs[:5]


@needs_real_data
def test_real_verify_all_ok_and_shared_dir_untouched(real_cache, capsys):
    before = [(p, p.stat().st_mtime_ns) for p in sorted(Path(SHARED).rglob("*"))]
    status = ds.verify_all()
    assert status and set(status.values()) == {"OK"}, status
    assert "mnist/train-images-idx3-ubyte.gz" in status and "cifar-10/test_batch.npz" in status
    assert ds.main(["--verify"]) == 0
    assert " OK, 0 MISSING, 0 CORRUPT" in capsys.readouterr().out
    assert [(p, p.stat().st_mtime_ns) for p in sorted(Path(SHARED).rglob("*"))] == before


# --------------------------------------------------------------------------------------------
# Data directory resolution
# --------------------------------------------------------------------------------------------

def test_data_dir_resolution_order(monkeypatch, tmp_path):
    monkeypatch.setenv("DLFS_DATA", str(tmp_path / "from-env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert ds.data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert ds.data_dir() == tmp_path / "from-env"
    monkeypatch.delenv("DLFS_DATA")
    assert ds.data_dir() == tmp_path / "xdg" / "dl-from-scratch"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # not absolute: ignored, as XDG says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ds.data_dir() == tmp_path / "home" / ".cache" / "dl-from-scratch"


def test_dlfs_data_is_read_only_downloads_go_to_the_cache(monkeypatch, tmp_path, isolated_cache, file_server):
    shared = tmp_path / "shared"
    (shared / "tinyshakespeare").mkdir(parents=True)
    (shared / "README.md").write_text("shared copy")
    monkeypatch.setenv("DLFS_DATA", str(shared))
    content = b"To be, or not to be\n"
    file_server.routes["/input.txt"] = content
    pin(monkeypatch, "tinyshakespeare", {"input.txt": content}, lambda name: [file_server.url + "/" + name])
    before = listing(shared)
    assert ds.load_tinyshakespeare() == content.decode()
    assert listing(shared) == before
    assert (isolated_cache / "tinyshakespeare" / "input.txt").read_bytes() == content
    # once in the cache, it is found there without the network
    file_server.routes.clear()
    assert ds.load_tinyshakespeare(download=False) == content.decode()


# --------------------------------------------------------------------------------------------
# IDX parsing and MNIST on synthetic files
# --------------------------------------------------------------------------------------------

def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    big_endian = {0x08: "u1", 0x0C: ">i4", 0x0D: ">f4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian).tobytes()


def gz(payload: bytes) -> bytes:
    return gzip.compress(payload, mtime=0)


def synthetic_mnist(n_train=6, n_test=4, seed=0):
    """Four MNIST-named .gz IDX files {name: bytes} and the arrays they hold."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    return {name: gz(idx_bytes(a)) for name, a in arrays.items()}, arrays


def write_files(folder: Path, files: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def test_read_idx_uint8_gz_and_plain(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx3.gz").write_bytes(gz(idx_bytes(images)))
    (tmp_path / "a.idx3").write_bytes(idx_bytes(images))
    for name in ("a.idx3.gz", "a.idx3"):
        out = ds.read_idx(tmp_path / name)
        assert out.dtype == np.uint8 and out.shape == (2, 3, 4)
        np.testing.assert_array_equal(out, images)
    assert out.flags.writeable  # a view of our own buffer, not of immutable bytes


def test_read_idx_big_endian_types_become_native(tmp_path):
    values = np.array([[1, -2, 70000], [3, 4, -5]], dtype=np.int32)
    (tmp_path / "i.gz").write_bytes(gz(idx_bytes(values, 0x0C)))
    out = ds.read_idx(tmp_path / "i.gz")
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"\x00\x01\x08\x01\x00\x00\x00\x02ab", "not an IDX file"),  # second magic byte not 0
        (b"\x00\x00\x07\x01\x00\x00\x00\x02ab", "not an IDX file"),  # unknown type code
        (b"\x00\x00\x08\x00", "not an IDX file"),  # zero dimensions
        (b"\x00\x00", "not an IDX file"),  # too short
        (b"\x00\x00\x08\x02\x00\x00\x00\x02", "header ends early"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "data after"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, payload, message):
    path = tmp_path / "bad-idx1-ubyte.gz"
    path.write_bytes(gz(payload))
    with pytest.raises(ValueError, match=message) as info:
        ds.read_idx(path)
    assert "bad-idx1-ubyte.gz" in str(info.value)


def test_read_idx_rejects_broken_gzip(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gz(idx_bytes(np.zeros((50, 28, 28), np.uint8)))[:-30])
    with pytest.raises(DatasetCorruptError, match="corrupt"):
        ds.read_idx(path)


def test_load_mnist_synthetic_shapes_flatten_normalize(monkeypatch, tmp_path):
    files, arrays = synthetic_mnist()
    pin(monkeypatch, "mnist", files)
    write_files(tmp_path / "mnist", files)
    x_train, y_train, x_test, y_test = ds.load_mnist(tmp_path, download=False)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert x_train.dtype == np.uint8 and x_test.shape == (4, 28, 28)
    flat, _, _, _ = ds.load_mnist(tmp_path, download=False, flatten=True, normalize=True)
    assert flat.shape == (6, 784) and flat.dtype == np.float32
    np.testing.assert_allclose(flat, arrays["train-images-idx3-ubyte.gz"].reshape(6, -1) / 255, rtol=1e-6)
    assert 0.0 <= flat.min() and flat.max() <= 1.0


def test_load_mnist_checks_shapes_and_label_counts(monkeypatch, tmp_path):
    files, _ = synthetic_mnist()
    files["train-images-idx3-ubyte.gz"] = gz(idx_bytes(np.zeros((6, 27, 28), np.uint8)))
    pin(monkeypatch, "mnist", files)
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DatasetCorruptError, match=r"\(N, 28, 28\)"):
        ds.load_mnist(tmp_path, download=False)
    files, _ = synthetic_mnist()
    files["t10k-labels-idx1-ubyte.gz"] = gz(idx_bytes(np.zeros(3, np.uint8)))  # 4 test images
    pin(monkeypatch, "mnist", files)
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DatasetCorruptError, match="expected 4 uint8 labels"):
        ds.load_mnist(tmp_path, download=False)


def test_load_mnist_subset_is_seeded_and_drawn_from_the_data(monkeypatch, tmp_path):
    files, arrays = synthetic_mnist(n_train=50, n_test=20)
    pin(monkeypatch, "mnist", files)
    write_files(tmp_path / "mnist", files)
    xs, ys, xt, yt = ds.load_mnist_subset(10, seed=3, data_dir=tmp_path, download=False)
    assert xs.shape == (10, 28, 28) and ys.shape == (10,) and xt.shape == (10, 28, 28) and yt.shape == (10,)
    full = arrays["train-images-idx3-ubyte.gz"]
    rows = [int(np.flatnonzero((full == img).all(axis=(1, 2)))[0]) for img in xs]
    assert len(set(rows)) == 10 and rows == sorted(rows)
    np.testing.assert_array_equal(ys, arrays["train-labels-idx1-ubyte.gz"][rows])
    again = ds.load_mnist_subset(10, seed=3, data_dir=tmp_path, download=False)
    np.testing.assert_array_equal(again[0], xs)
    other = ds.load_mnist_subset(10, seed=4, data_dir=tmp_path, download=False)
    assert not np.array_equal(other[0], xs)
    assert ds.load_mnist_subset(5, n_test=2, data_dir=tmp_path, download=False)[2].shape == (2, 28, 28)
    with pytest.raises(ValueError, match="n must be between 0 and 50"):
        ds.load_mnist_subset(51, data_dir=tmp_path, download=False)


# --------------------------------------------------------------------------------------------
# Checksums
# --------------------------------------------------------------------------------------------

def test_corrupt_file_is_detected_and_named(monkeypatch, tmp_path):
    files, _ = synthetic_mnist()
    pin(monkeypatch, "mnist", files)
    files["t10k-labels-idx1-ubyte.gz"] = gz(idx_bytes(np.ones(4, np.uint8)))  # valid IDX, wrong bytes
    write_files(tmp_path / "mnist", files)
    with pytest.raises(DatasetCorruptError) as info:
        ds.load_mnist(tmp_path, download=False)
    message = str(info.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and "corrupt" in message
    assert sha256(files["t10k-labels-idx1-ubyte.gz"]) in message
    assert (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").exists()  # download=False: left alone


def test_checksums_are_remembered_per_path_size_and_mtime(monkeypatch, tmp_path, isolated_cache):
    content = b"remember me\n"
    pin(monkeypatch, "tinyshakespeare", {"input.txt": content})
    write_files(tmp_path / "tinyshakespeare", {"input.txt": content})
    hashed = []
    real_hash = ds._hash_file
    monkeypatch.setattr(ds, "_hash_file", lambda path: hashed.append(path) or real_hash(path))
    for _ in range(3):
        assert ds.load_tinyshakespeare(tmp_path, download=False) == content.decode()
    assert len(hashed) == 1
    monkeypatch.setattr(ds, "_verified_memo", {})  # a new process: the cache file still knows it
    ds.load_tinyshakespeare(tmp_path, download=False)
    assert len(hashed) == 1 and (isolated_cache / "verified.json").is_file()
    path = tmp_path / "tinyshakespeare" / "input.txt"
    path.write_bytes(b"remember mE\n")  # same size, new content and mtime
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    with pytest.raises(DatasetCorruptError, match="corrupt"):
        ds.load_tinyshakespeare(tmp_path, download=False)
    assert len(hashed) == 2


# --------------------------------------------------------------------------------------------
# Downloads from a local HTTP server
# --------------------------------------------------------------------------------------------

class FileServer:
    """http.server on 127.0.0.1 in a thread. routes {path: bytes}; anything else is a 404.
    Paths in `short` announce 100 more bytes than they send (a transfer cut short)."""

    def __init__(self):
        self.routes, self.short, self.requests = {}, set(), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path not in server.routes:
                    self.send_error(404)
                    return
                body = server.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (100 if self.path in server.short else 0)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def file_server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    server = FileServer()
    yield server
    server.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


TEXT = b"First Citizen:\nBefore we proceed any further, hear me speak.\n" * 50


def test_download_success_is_verified_and_atomic(monkeypatch, tmp_path, file_server, capsys):
    file_server.routes["/primary/input.txt"] = TEXT
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: [f"{file_server.url}/primary/{n}"])
    target = tmp_path / "tinyshakespeare" / "input.txt"
    renames = []
    real_replace = os.replace

    def spy_replace(src, dst):
        if Path(dst) == target:
            assert not target.exists()  # the real name appears only once the file is complete
            assert str(src).endswith(".part") and Path(src).parent == target.parent
            assert Path(src).read_bytes() == TEXT
            renames.append(src)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy_replace)
    assert ds.load_tinyshakespeare(tmp_path) == TEXT.decode()
    assert renames and target.read_bytes() == TEXT
    assert listing(tmp_path / "tinyshakespeare") == ["input.txt"]  # no .part left behind
    err = capsys.readouterr().err
    assert "100%" in err and "input.txt" in err


def test_download_falls_back_to_mirror_when_primary_404s(monkeypatch, tmp_path, file_server, capsys):
    file_server.routes["/mirror/input.txt"] = TEXT
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT},
        lambda n: [f"{file_server.url}/primary/{n}", f"{file_server.url}/mirror/{n}"])
    assert ds.load_tinyshakespeare(tmp_path) == TEXT.decode()
    assert file_server.requests == ["/primary/input.txt", "/mirror/input.txt"]
    assert "HTTP 404" in capsys.readouterr().err


def test_corrupt_or_truncated_download_is_rejected_and_removed(monkeypatch, tmp_path, file_server, capsys):
    file_server.routes["/bad/input.txt"] = TEXT.replace(b"speak", b"SPEAK")
    file_server.routes["/short/input.txt"] = TEXT
    file_server.short.add("/short/input.txt")
    file_server.routes["/good/input.txt"] = TEXT
    urls = [f"{file_server.url}/{where}/input.txt" for where in ("bad", "short", "good")]
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: urls)
    assert ds.load_tinyshakespeare(tmp_path) == TEXT.decode()
    err = capsys.readouterr().err
    assert "rejected and deleted" in err and "cut short" in err
    assert listing(tmp_path / "tinyshakespeare") == ["input.txt"]

    # every source corrupt: an error, and nothing left on disk
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: urls[:2])
    (tmp_path / "tinyshakespeare" / "input.txt").unlink()
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load_tinyshakespeare(tmp_path)
    assert f"{urls[0]} -> downloaded file has sha256 {sha256(file_server.routes['/bad/input.txt'])}" in str(info.value)
    assert listing(tmp_path / "tinyshakespeare") == []


def test_offline_gives_a_helpful_dataset_not_found_error(monkeypatch, tmp_path, isolated_cache):
    url = closed_port_url() + "/input.txt"
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: [url])
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load_tinyshakespeare(tmp_path)
    assert isinstance(info.value, FileNotFoundError)
    message = str(info.value)
    assert "input.txt" in message and url in message and "cannot connect" in message
    assert str(tmp_path / "tinyshakespeare") in message and "DLFS_DATA" in message
    assert sha256(TEXT) in message
    assert listing(tmp_path / "tinyshakespeare") == []
    with pytest.raises(DatasetNotFoundError, match="DLFS_DATA"):  # download=False: same advice
        ds.load_tinyshakespeare(tmp_path, download=False)


def test_pre_existing_corrupt_file_is_replaced_by_a_good_download(monkeypatch, tmp_path, file_server, capsys):
    file_server.routes["/input.txt"] = TEXT
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: [f"{file_server.url}/{n}"])
    write_files(tmp_path / "tinyshakespeare", {"input.txt": TEXT[:-10]})  # a half file
    assert ds.load_tinyshakespeare(tmp_path) == TEXT.decode()
    assert "is corrupt" in capsys.readouterr().err
    assert (tmp_path / "tinyshakespeare" / "input.txt").read_bytes() == TEXT


def test_corrupt_file_in_the_user_cache_is_replaced(monkeypatch, tmp_path, isolated_cache, file_server):
    file_server.routes["/input.txt"] = TEXT
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: [f"{file_server.url}/{n}"])
    write_files(isolated_cache / "tinyshakespeare", {"input.txt": b"stale"})
    assert ds.load_tinyshakespeare(tmp_path / "mine") == TEXT.decode()
    assert not (isolated_cache / "tinyshakespeare" / "input.txt").exists()
    assert (tmp_path / "mine" / "tinyshakespeare" / "input.txt").read_bytes() == TEXT


def test_cli_download(monkeypatch, tmp_path, file_server, capsys):
    file_server.routes["/input.txt"] = TEXT
    pin(monkeypatch, "tinyshakespeare", {"input.txt": TEXT}, lambda n: [f"{file_server.url}/{n}"])
    assert ds.main(["--download", "tinyshakespeare", "--data-dir", str(tmp_path)]) == 0
    assert "tinyshakespeare: ready" in capsys.readouterr().out
    assert ds.verify_all(tmp_path)["tinyshakespeare/input.txt"] == "OK"
    file_server.routes.clear()
    (tmp_path / "tinyshakespeare" / "input.txt").unlink()
    assert ds.main(["--download", "tinyshakespeare", "--data-dir", str(tmp_path)]) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_mnist_downloads_all_four_files(monkeypatch, tmp_path, file_server):
    files, arrays = synthetic_mnist()
    for name, content in files.items():
        file_server.routes[f"/mnist/{name}"] = content
    pin(monkeypatch, "mnist", files, lambda n: [f"{file_server.url}/gone/{n}", f"{file_server.url}/mnist/{n}"])
    x_train, y_train, x_test, y_test = ds.load_mnist(tmp_path)
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])
    assert listing(tmp_path / "mnist") == sorted(files)


# --------------------------------------------------------------------------------------------
# English-French pairs
# --------------------------------------------------------------------------------------------

def fra_zip(lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("fra.txt", "".join(line + "\n" for line in lines))
        archive.writestr("_about.txt", "attribution")
    return buffer.getvalue()


def test_load_fra_eng_reads_pairs_from_the_zip(monkeypatch, tmp_path):
    archive = fra_zip(["Go.\tVa !", "Run!\tCours\u202f!", "Wow!\tÇa alors\u202f!"])
    pin(monkeypatch, "fra-eng", {"fra-eng.zip": archive})
    write_files(tmp_path / "fra-eng", {"fra-eng.zip": archive})
    assert ds.load_fra_eng(tmp_path, download=False) == [
        ("Go.", "Va !"), ("Run!", "Cours\u202f!"), ("Wow!", "Ça alors\u202f!")]
    assert ds.load_fra_eng(tmp_path, download=False, max_pairs=2) == [("Go.", "Va !"), ("Run!", "Cours\u202f!")]
    assert ds.load_fra_eng(tmp_path, download=False, max_pairs=0) == []
    with pytest.raises(ValueError, match="max_pairs"):
        ds.load_fra_eng(tmp_path, download=False, max_pairs=-1)


def test_load_fra_eng_rejects_a_line_without_tab(monkeypatch, tmp_path):
    archive = fra_zip(["Go.\tVa !", "no tab here"])
    pin(monkeypatch, "fra-eng", {"fra-eng.zip": archive})
    write_files(tmp_path / "fra-eng", {"fra-eng.zip": archive})
    with pytest.raises(DatasetCorruptError, match="line 2"):
        ds.load_fra_eng(tmp_path, download=False)


def test_fra_eng_other_version_is_refused_unless_allowed(monkeypatch, tmp_path, file_server, capsys):
    pinned = fra_zip(["Go.\tVa !"])
    newer = fra_zip(["Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org", "Hi.\tSalut !\tCC-BY 2.0"])
    file_server.routes["/anki/fra-eng.zip"] = newer
    remote = RemoteFile("fra-eng.zip", sha256(pinned), (f"{file_server.url}/anki/fra-eng.zip",), note=ds.FRA_ENG_NOTE)
    monkeypatch.setitem(ds.REMOTE_FILES, "fra-eng", (remote,))
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load_fra_eng(tmp_path)
    message = str(info.value)
    assert sha256(newer) in message and sha256(pinned) in message
    assert "2017-09-29" in message and "allow_other_version=True" in message
    assert listing(tmp_path / "fra-eng") == []
    pairs = ds.load_fra_eng(tmp_path, allow_other_version=True)
    assert pairs == [("Go.", "Va !"), ("Hi.", "Salut !")]  # the attribution column is dropped
    assert "not the pinned" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# CIFAR-10: restricted unpickling and conversion of the canonical tarball
# --------------------------------------------------------------------------------------------

def py2_cifar_batch(data: np.ndarray, labels) -> bytes:
    """A pickle laid out like the canonical CIFAR-10 batches (Python 2 cPickle, protocol 2):
    {'batch_label': str, 'labels': [int], 'data': ndarray (N, 3072) uint8} with py2 byte strings."""
    def string(b):  # SHORT_BINSTRING / BINSTRING
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b

    def integer(n):  # BININT1 / BININT2
        return b"K" + bytes([n]) if n < 256 else b"M" + struct.pack("<H", n)

    rows, cols = data.shape
    array = (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + integer(0) + b"\x85" + string(b"b") + b"\x87R"
        + b"(" + integer(1) + integer(rows) + integer(cols) + b"\x86"  # state: version, shape,
        + b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"  # dtype('u1', 0, 1)
        + b"(" + integer(3) + string(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xff" + integer(0) + b"tb"
        + b"\x89" + string(data.tobytes()) + b"tb"  # fortran order False, the raw bytes
    )
    label_list = b"](" + b"".join(integer(int(v)) for v in labels) + b"e"
    return (b"\x80\x02}(" + string(b"batch_label") + string(b"training batch 1 of 5")
            + string(b"labels") + label_list + string(b"data") + array + b"u.")


class OpensAFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


class RunsAShellCommand:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def make_tarball(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def synthetic_cifar(n=3, seed=0):
    rng = np.random.default_rng(seed)
    batches = {b: (rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n)) for b in ds.CIFAR10_BATCHES}
    members = {b: py2_cifar_batch(data, labels) for b, (data, labels) in batches.items()}
    members["batches.meta"] = pickle.dumps({"label_names": list(ds.CIFAR10_CLASSES)}, protocol=2)
    return make_tarball(members), batches


def test_restricted_unpickler_loads_a_genuine_batch():
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    batch = RestrictedUnpickler(io.BytesIO(py2_cifar_batch(data, [4, 9])), encoding="latin1").load()
    assert batch["labels"] == [4, 9]
    np.testing.assert_array_equal(batch["data"], data)


def test_the_open_payload_is_live_with_a_plain_unpickler(tmp_path):
    marker = tmp_path / "pwned"
    loaded = pickle.loads(pickle.dumps({"data": OpensAFile(marker)}, protocol=2))
    loaded["data"].close()
    assert marker.exists()  # so the refusal below is a real protection, not a broken payload


@pytest.mark.parametrize("payload_kind", ["open", "os.system", "other numpy global"])
def test_restricted_unpickler_refuses_malicious_pickles(tmp_path, payload_kind):
    marker = tmp_path / "pwned"
    payload = {
        "open": lambda: pickle.dumps({"data": OpensAFile(marker)}, protocol=2),
        "os.system": lambda: pickle.dumps(RunsAShellCommand(), protocol=2),
        "other numpy global": lambda: b"\x80\x02cnumpy\nload\nU\x04/etc\x85R.",
    }[payload_kind]()
    with pytest.raises(pickle.UnpicklingError, match="refused to load the global") as info:
        RestrictedUnpickler(io.BytesIO(payload), encoding="latin1").load()
    assert {"open": "open", "os.system": "system", "other numpy global": "numpy.load"}[payload_kind] in str(info.value)
    assert not marker.exists()


def test_cifar10_tarball_is_converted_once_to_hwc_npz(monkeypatch, tmp_path, capsys):
    tarball, batches = synthetic_cifar()
    pin(monkeypatch, "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    write_files(tmp_path / "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    x_train, y_train, x_test, y_test = ds.load_cifar10(tmp_path, download=False)
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (3, 32, 32, 3) and x_train.dtype == np.uint8
    data, labels = batches["data_batch_2"]
    # row layout: 1024 red, then 1024 green, then 1024 blue values, each 32x32 row-major
    for i, r, c, ch in [(0, 0, 0, 0), (1, 5, 7, 1), (2, 31, 30, 2)]:
        assert x_train[3 + i, r, c, ch] == data[i, ch * 1024 + r * 32 + c]
    np.testing.assert_array_equal(y_train[3:6], labels)
    np.testing.assert_array_equal(y_test, batches["test_batch"][1])
    folder = tmp_path / "cifar-10"
    assert set(listing(folder)) == {ds.CIFAR10_TARBALL, ds.CIFAR10_MANIFEST, *ds.CIFAR10_NPZ_FILES}
    with np.load(folder / "test_batch.npz", allow_pickle=False) as npz:
        assert set(npz.files) == {"x", "y"} and npz["x"].shape == (3, 32, 32, 3)
    assert "Converting" in capsys.readouterr().err

    monkeypatch.setattr(ds, "convert_cifar10_tarball", lambda *a: pytest.fail("converted twice"))
    x_norm, _, _, _ = ds.load_cifar10(tmp_path, download=False, normalize=True)
    assert x_norm.dtype == np.float32 and np.allclose(x_norm * 255, x_train)
    assert ds.verify_all(tmp_path)["cifar-10/data_batch_1.npz"] == "OK"


def test_cifar10_corrupt_converted_batch_is_converted_again(monkeypatch, tmp_path):
    tarball, batches = synthetic_cifar()
    pin(monkeypatch, "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    write_files(tmp_path / "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    ds.load_cifar10(tmp_path, download=False)
    (tmp_path / "cifar-10" / "data_batch_3.npz").write_bytes(b"not an npz")
    assert ds.verify_all(tmp_path)["cifar-10/data_batch_3.npz"] == "CORRUPT"
    x_train, _, _, _ = ds.load_cifar10(tmp_path, download=False)
    assert x_train[6, 0, 0, 0] == batches["data_batch_3"][0][0, 0]


def test_cifar10_unverified_tarball_is_never_unpickled(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    tarball = make_tarball({b: pickle.dumps({"data": OpensAFile(marker)}, protocol=2) for b in ds.CIFAR10_BATCHES})
    pin(monkeypatch, "cifar-10", {ds.CIFAR10_TARBALL: b"the genuine archive has other bytes"})
    write_files(tmp_path / "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    with pytest.raises(DatasetCorruptError, match="cifar-10-python.tar.gz is corrupt"):
        ds.load_cifar10(tmp_path, download=False)
    # even with a matching checksum, the restricted unpickler stops the payload
    pin(monkeypatch, "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    with pytest.raises(DatasetCorruptError, match="not a genuine CIFAR-10 batch: refused to load the global io.open"):
        ds.load_cifar10(tmp_path, download=False)
    assert not marker.exists()
    assert not list((tmp_path / "cifar-10").glob("*.npz"))


def test_cifar10_missing_everything_explains_npz_and_tarball(monkeypatch, tmp_path):
    pin(monkeypatch, "cifar-10", {ds.CIFAR10_TARBALL: b"x"}, lambda n: ["https://example.invalid/" + n])
    with pytest.raises(DatasetNotFoundError) as info:
        ds.load_cifar10(tmp_path, download=False)
    message = str(info.value)
    assert "data_batch_1.npz" in message and "cifar-10-python.tar.gz" in message
    assert "https://example.invalid/cifar-10-python.tar.gz" in message


def test_cifar10_converted_from_a_read_only_source_goes_to_the_cache(monkeypatch, tmp_path, isolated_cache):
    tarball, _ = synthetic_cifar(n=2)
    pin(monkeypatch, "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    shared = tmp_path / "shared"
    write_files(shared / "cifar-10", {ds.CIFAR10_TARBALL: tarball})
    monkeypatch.setenv("DLFS_DATA", str(shared))
    x_train, _, _, _ = ds.load_cifar10(download=False)
    assert x_train.shape == (10, 32, 32, 3)
    assert listing(shared) == ["cifar-10", "cifar-10/cifar-10-python.tar.gz"]
    assert (isolated_cache / "cifar-10" / ds.CIFAR10_MANIFEST).is_file()


# --------------------------------------------------------------------------------------------
# verify_all and the command line
# --------------------------------------------------------------------------------------------

def test_verify_all_and_cli_report_ok_missing_corrupt(monkeypatch, tmp_path, capsys):
    files, _ = synthetic_mnist()
    pin(monkeypatch, "mnist", files)
    files["train-labels-idx1-ubyte.gz"] = b"garbage"
    del files["t10k-images-idx3-ubyte.gz"]
    write_files(tmp_path / "mnist", files)
    status = ds.verify_all(tmp_path)
    assert status["mnist/train-images-idx3-ubyte.gz"] == "OK"
    assert status["mnist/train-labels-idx1-ubyte.gz"] == "CORRUPT"
    assert status["mnist/t10k-images-idx3-ubyte.gz"] == "MISSING"
    assert status["tinyshakespeare/input.txt"] == "MISSING"
    assert status["cifar-10/test_batch.npz"] == "MISSING"
    assert ds.main(["--verify", "--data-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "CORRUPT  mnist/train-labels-idx1-ubyte.gz" in out and "MISSING  fra-eng/fra-eng.zip" in out
    assert "2 OK, 9 MISSING, 1 CORRUPT" in out


# --------------------------------------------------------------------------------------------
# BatchIterator
# --------------------------------------------------------------------------------------------

def test_batches_cover_every_sample_once_per_epoch_and_stay_aligned():
    x = np.arange(103) * 10
    y = np.arange(103)
    batches = BatchIterator(x, y, batch_size=10, seed=1)
    epochs = []
    for _ in range(3):
        seen = []
        for xb, yb in batches:
            np.testing.assert_array_equal(xb, yb * 10)
            seen.append(yb)
        order = np.concatenate(seen)
        assert sorted(order.tolist()) == list(range(103))
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], y)  # shuffled


def test_same_seed_same_orders_other_seed_other_orders():
    x = np.random.default_rng(0).normal(size=(50, 3))

    def orders(seed):
        it = BatchIterator(x, np.arange(50), batch_size=7, seed=seed)
        return [np.concatenate([yb for _, yb in it]) for _ in range(2)]

    a, b, c = orders(5), orders(5), orders(6)
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_len_drop_last_and_batch_sizes():
    x = np.arange(10)
    full = BatchIterator(x, x, batch_size=4, shuffle=False)
    assert len(full) == 3 and [len(xb) for xb, _ in full] == [4, 4, 2]
    dropped = BatchIterator(x, x, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(xb) for xb, _ in dropped] == [4, 4]
    assert len(BatchIterator(x, batch_size=5, drop_last=True)) == 2
    ones = BatchIterator(x, x, batch_size=1)
    assert len(ones) == 10 and sorted(int(yb[0]) for _, yb in ones) == list(range(10))
    big = BatchIterator(x, x, batch_size=64)
    assert len(big) == 1 and len(next(iter(big))[0]) == 10
    assert len(BatchIterator(x, batch_size=64, drop_last=True)) == 0


def test_unshuffled_batches_are_in_order_views_and_x_only_mode():
    x = np.arange(24).reshape(8, 3)
    batches = list(BatchIterator(x, batch_size=3, shuffle=False))  # y=None: each batch is xb alone
    np.testing.assert_array_equal(np.concatenate(batches), x)
    assert np.shares_memory(batches[0], x)


def test_empty_dataset_yields_nothing():
    it = BatchIterator(np.zeros((0, 4)), np.zeros(0), batch_size=8)
    assert len(it) == 0 and list(it) == []


@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_batch_size_is_refused(batch_size, error):
    with pytest.raises(error, match="batch_size"):
        BatchIterator(np.arange(4), batch_size=batch_size)


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="same number of samples, got 5 and 4"):
        BatchIterator(np.zeros((5, 2)), np.zeros(4))


def test_batch_order_is_a_function_of_seed_and_epoch():
    x = np.arange(40)
    straight = BatchIterator(x, batch_size=8, seed=3)
    orders = [np.concatenate(list(straight)) for _ in range(3)]
    resumed = BatchIterator(x, batch_size=8, seed=3)
    resumed.set_epoch(2)
    assert np.array_equal(np.concatenate(list(resumed)), orders[2]), "set_epoch(2) must replay epoch 2's batches"
    assert np.array_equal(orders[1], epoch_permutation(40, 3, 1))
    assert not np.array_equal(orders[0], orders[1])
    with pytest.raises(ValueError):
        resumed.set_epoch(-1)


def test_reused_buffers_give_the_same_batches_without_new_arrays():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 3)).astype(np.float32), np.arange(50)
    plain = [(a.copy(), b.copy()) for a, b in BatchIterator(x, y, batch_size=16, seed=1)]
    reused = BatchIterator(x, y, batch_size=16, seed=1, reuse_buffers=True)
    seen = []
    for (a, b), (pa, pb) in zip(reused, plain):
        assert np.array_equal(a, pa) and np.array_equal(b, pb)
        seen.append(a.base if a.base is not None else a)
    assert all(base is seen[0] for base in seen), "every batch must live in the same preallocated buffer"
    assert len(seen) == 4 and len(plain[-1][0]) == 2


def test_missing_reason_says_what_to_do_and_finds_either_cifar_form(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DLFS_DATA", str(tmp_path / "data"))
    reason = ds.missing_reason("mnist")
    assert "MNIST is not on this machine" in reason and "--download mnist" in reason and "DLFS_DATA" in reason
    for remote in ds.REMOTE_FILES[ds.MNIST]:
        write_files(tmp_path / "data" / "mnist", {remote.name: b"x"})
    assert ds.missing_reason("mnist") is None, "presence is enough: the loader verifies the checksums"
    assert ds.missing_reason("cifar10") is not None
    write_files(tmp_path / "cache" / ds.CACHE_NAME / "cifar-10", {ds.CIFAR10_TARBALL: b"x"})
    assert ds.missing_reason("cifar10") is None, "the tarball is converted on first use"
    with pytest.raises(ValueError, match="unknown dataset"):
        ds.missing_reason("imagenet")
