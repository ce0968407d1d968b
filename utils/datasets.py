"""Real datasets for the curriculum: MNIST, CIFAR-10, TinyShakespeare and English-French pairs.

    from dlfs.datasets import load_mnist, BatchIterator
    x_train, y_train, x_test, y_test = load_mnist(normalize=True, flatten=True)  # (60000, 784) float32
    batches = BatchIterator(x_train, y_train, batch_size=128, seed=0)
    for epoch in range(3):
        for xb, yb in batches:          # a new shuffle every epoch, the same ones for the same seed
            ...

Where the files are looked for
    The data directory is, in this order:
      1. the ``data_dir`` argument of a loader, if given;
      2. else the environment variable ``DLFS_DATA``;
      3. else the per-user cache ``$XDG_CACHE_HOME/dl-from-scratch`` (``~/.cache/dl-from-scratch``).
    Each dataset has its own folder inside it: ``mnist/``, ``cifar-10/``, ``tinyshakespeare/``,
    ``fra-eng/``. The user cache is searched too, after the data directory, so files downloaded or
    converted there are found whichever data directory is in use.

Where files are written
    A ``DLFS_DATA`` directory is never written to: it may be a shared, read-only copy. Downloads and
    derived files (the CIFAR-10 ``.npz`` batches converted from the canonical tarball) go to the
    ``data_dir`` argument if one was given and is writable, else to the user cache.

Download and verification rules
    - Every file has a canonical URL, fallback mirrors and a pinned sha256 (``REMOTE_FILES``).
    - Bytes are streamed (urllib, progress on stderr) into a temporary ``*.part`` file in the target
      folder, checked (length, sha256), and only then renamed into place with ``os.replace``, which
      is atomic: a half-downloaded or corrupt file never takes the real name. A failed attempt is
      reported, its ``.part`` file deleted, and the next mirror tried.
    - Every file is checked against its sha256 before it is used. The result is remembered per
      (path, size, mtime) in ``<user cache>/verified.json``, so an unchanged file is hashed once.
      A corrupt file in the download target or the user cache is reported, removed and downloaded
      again; anywhere else (a shared copy) it raises ``DatasetCorruptError`` and is left alone.
    - If no source works, ``DatasetNotFoundError`` (a ``FileNotFoundError``) names the missing
      files, their URLs, the folder to put them in, and the ``DLFS_DATA`` variable.

About the files
    - CIFAR-10's canonical batches are Python pickles, and unpickling can run arbitrary code: the
      tarball is converted only after its sha256 matched, through RestrictedUnpickler, which
      rebuilds NumPy arrays and nothing else. The prepared .npz copy used by CI was decoded from a
      JPEG copy of CIFAR-10, so its pixels are close to, not equal to, the official ones.
    - English-French pairs: the course pins the 2017-09-29 manythings.org/anki export; the
      publisher now serves newer exports with other checksums (see FRA_ENG_NOTE).

Command line (from the repository root)
    python -m dlfs.datasets --verify [--data-dir D]      # OK / MISSING / CORRUPT for every file
    python -m dlfs.datasets --download mnist [--data-dir D]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import io
import json
import math
import operator
import os
import pickle
import secrets
import struct
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "BatchIterator",
    "CIFAR10_CLASSES",
    "DatasetCorruptError",
    "DatasetNotFoundError",
    "REMOTE_FILES",
    "RemoteFile",
    "RestrictedUnpickler",
    "cache_dir",
    "convert_cifar10_tarball",
    "data_dir",
    "download_file",
    "file_sha256",
    "load_cifar10",
    "load_fra_eng",
    "load_mnist",
    "load_mnist_subset",
    "load_tinyshakespeare",
    "read_idx",
    "verify_all",
]

ENV_VAR = "DLFS_DATA"
CACHE_NAME = "dl-from-scratch"
USER_AGENT = "dl-from-scratch-datasets/1.0 (python urllib)"
TIMEOUT_SECONDS = 30
CHUNK_BYTES = 1 << 20

MNIST, CIFAR10, SHAKESPEARE, FRA_ENG = "mnist", "cifar-10", "tinyshakespeare", "fra-eng"
TITLES = {MNIST: "MNIST", CIFAR10: "CIFAR-10", SHAKESPEARE: "TinyShakespeare", FRA_ENG: "English-French pairs"}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is neither on disk nor downloadable; the message says how to get it."""


class DatasetCorruptError(ValueError):
    """A dataset file exists, but its checksum or its content is not what it should be."""


# --------------------------------------------------------------------------------------------
# The download table
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name inside the dataset folder, its sha256, where to get it.

    urls: the canonical source first, then mirrors (all must serve exactly these bytes).
    note: said to the user whenever a copy of this file has another checksum.
    """

    name: str
    sha256: str
    urls: tuple[str, ...]
    note: str = ""


# torchvision's MNIST mirror first, then the Google-hosted copy; both serve the 1998 release bytes.
_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

CIFAR10_TARBALL = "cifar-10-python.tar.gz"

FRA_ENG_NOTE = (
    "The course pins the 2017-09-29 export of this archive (142,787 pairs). www.manythings.org "
    "serves its current export, which changes over time (newer exports have more pairs and a third "
    "attribution column), so a file downloaded from there has another checksum. To use such a newer "
    "export anyway, call load_fra_eng(allow_other_version=True); pair counts will then differ from "
    "the ones quoted in the course."
)

REMOTE_FILES: dict[str, tuple[RemoteFile, ...]] = {
    MNIST: tuple(
        RemoteFile(name, digest, tuple(mirror + name for mirror in _MNIST_MIRRORS))
        for name, digest in _MNIST_SHA256.items()
    ),
    CIFAR10: (
        RemoteFile(
            CIFAR10_TARBALL,
            "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",  # md5 c58f3010...74349a
            (
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "http://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
            ),
        ),
    ),
    SHAKESPEARE: (
        RemoteFile(
            "input.txt",
            "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
            (
                "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
                "https://raw.githubusercontent.com/karpathy/char-rnn/"
                "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/input.txt",
                "https://storage.googleapis.com/download.tensorflow.org/data/shakespeare.txt",
            ),
        ),
    ),
    # No canonical URL serves the 2017-09-29 bytes any more: the first source is a public repository
    # holding that exact archive (pinned to the commit that added it), the second is the publisher.
    FRA_ENG: (
        RemoteFile(
            "fra-eng.zip",
            "16c4f7d0df9e7c5e6c54cdb0447f3f4a18a55052ff5e2e0b27dd4a06c0e49d04",
            (
                "https://raw.githubusercontent.com/genimind/seq2seq/"
                "843b8bc40396fbea4ac9171097122aacfc8b9660/fra-eng.zip",
                "https://www.manythings.org/anki/fra-eng.zip",
            ),
            note=FRA_ENG_NOTE,
        ),
    ),
}

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR10_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
CIFAR10_NPZ_FILES = tuple(f"{batch}.npz" for batch in CIFAR10_BATCHES)
CIFAR10_MANIFEST = "SHA256SUMS"  # written next to batches converted here, in `sha256sum -c` format
# The prepared .npz copy used for development and CI (pixels decoded from a JPEG copy of CIFAR-10,
# so close to but not exactly the official ones). Batches converted here are checked by SHA256SUMS.
CIFAR10_NPZ_SHA256 = {
    "data_batch_1.npz": "0a84effb2f50edf78faa74ef20b43f4165415b6396820eeaaab340ae1e2200fe",
    "data_batch_2.npz": "69a894d26aa5c68441cae5a9f85bda39039665c468d367a2584f2ef46191709c",
    "data_batch_3.npz": "f204c1f0ba91c15c5a3b47a2942c7b20cf875797d5d66cbc3bf6c6920a007132",
    "data_batch_4.npz": "9db420d5c7044188204f1a894dd6a05d3ba49f0bd39f538aa89e14dfceab4dba",
    "data_batch_5.npz": "783a44003cc70cee76bdc55764d28eb1387e677daede8379545dc10c64d0f297",
    "test_batch.npz": "690bc254f4584e21c4adbb782643701b996add8ca72a351528c60311ebf5ce5f",
}


# --------------------------------------------------------------------------------------------
# Directories
# --------------------------------------------------------------------------------------------

def cache_dir() -> Path:
    """The per-user cache: $XDG_CACHE_HOME/dl-from-scratch, or ~/.cache/dl-from-scratch."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / CACHE_NAME


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: `explicit` if given, else $DLFS_DATA, else the user cache."""
    if explicit is not None:
        return Path(explicit).expanduser().absolute()
    from_env = os.environ.get(ENV_VAR, "")
    if from_env:
        return Path(from_env).expanduser().absolute()
    return cache_dir()


def _data_dir_origin(explicit) -> str:
    if explicit is not None:
        return "--data-dir argument"
    return f"${ENV_VAR}" if os.environ.get(ENV_VAR) else "user cache"


def _is_writable(path: Path) -> bool:
    """True if files can be created at `path` (checked on its nearest existing ancestor)."""
    while not path.exists() and path.parent != path:
        path = path.parent
    return os.access(path, os.W_OK | os.X_OK)


def _locations(folder: str, explicit) -> tuple[list[Path], Path]:
    """(folders to search, in order; folder that downloads and derived files go to)."""
    cache = cache_dir() / folder
    search = [data_dir(explicit) / folder]
    if cache not in search:
        search.append(cache)
    if explicit is not None and _is_writable(data_dir(explicit)):
        return search, data_dir(explicit) / folder
    return search, cache  # $DLFS_DATA may be shared: it is never written to


def _is_ours(folder_path: Path, write: Path) -> bool:
    """True for the download target and the user cache: bad files there may be replaced."""
    return folder_path in (write, cache_dir() / folder_path.name)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Checksums, remembered per (path, size, mtime)
# --------------------------------------------------------------------------------------------

_VERIFIED_FILE = "verified.json"
_verified_memo: dict[str, list] = {}  # absolute path -> [size, mtime_ns, sha256]


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _read_verified_cache() -> dict[str, list]:
    try:
        table = json.loads((cache_dir() / _VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return table if isinstance(table, dict) else {}


def _remember(path: Path, digest: str) -> None:
    """Record the sha256 of `path` in memory and in the user cache (best effort)."""
    st = path.stat()
    entry = [st.st_size, st.st_mtime_ns, digest]
    _verified_memo[str(path)] = entry
    table = {p: e for p, e in _read_verified_cache().items() if os.path.exists(p)}
    table[str(path)] = entry
    target = cache_dir() / _VERIFIED_FILE
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f"{target.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        tmp.write_text(json.dumps(table, indent=0), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass  # a read-only home only costs re-hashing next time


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file; an unchanged file (same path, size and mtime) is hashed only once."""
    path = Path(path).absolute()
    st = path.stat()
    stamp = [st.st_size, st.st_mtime_ns]
    for table in (_verified_memo, _read_verified_cache()):
        entry = table.get(str(path))
        if isinstance(entry, list) and entry[:2] == stamp:
            _verified_memo[str(path)] = entry
            return entry[2]
    digest = _hash_file(path)
    _remember(path, digest)
    return digest


def _corrupt_message(path: Path, expected: str, actual: str, note: str = "") -> str:
    return (
        f"{path} is corrupt: its sha256 is {actual}, expected {expected}. "
        + (note + " " if note else "")
        + "Replace it with a good copy, or delete it: missing files are downloaded again on the next load."
    )


# --------------------------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------------------------

def _human(n_bytes: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n_bytes < 1000 or unit == "GB":
            return f"{n_bytes:.0f} {unit}" if unit == "B" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1000
    return ""


class _Progress:
    """`name  42% (4.2 MB of 9.9 MB)` on stderr, redrawn at most a few times per second."""

    def __init__(self, name: str, total: int | None):
        self.name, self.total, self.last = name, total, 0.0
        self.tty = sys.stderr.isatty()

    def show(self, done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 2.0):
            return
        self.last = now
        if self.total:
            text = f"  {self.name}  {100 * done // self.total:3d}% ({_human(done)} of {_human(self.total)})"
        else:
            text = f"  {self.name}  {_human(done)}"
        end = "\n" if final or not self.tty else ""
        sys.stderr.write(("\r" if self.tty else "") + text + end)
        sys.stderr.flush()


def _fetch(url: str, part: Path, name: str) -> None:
    """Stream `url` into the new file `part`; raise if the transfer is cut short."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response, open(part, "xb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        progress, done = _Progress(name, total), 0
        while chunk := response.read(CHUNK_BYTES):
            out.write(chunk)
            done += len(chunk)
            progress.show(done)
        out.flush()
        os.fsync(out.fileno())
        progress.show(done, final=True)
    if total is not None and done != total:
        raise http.client.IncompleteRead(b"", total - done)


def _reason(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect ({error.reason})"
    if isinstance(error, http.client.IncompleteRead):
        return f"transfer cut short ({error.expected} bytes missing)"
    return f"{type(error).__name__}: {error}"


def download_file(remote: RemoteFile, target_dir: str | os.PathLike, *, accept_other_version: bool = False) -> Path:
    """Download `remote` into `target_dir`, trying its URLs in order; return the verified file.

    Each attempt writes a fresh `<name>.<random>.part` file, checks it and renames it into place
    (atomic). A failed or mismatching attempt is reported on stderr and its part file removed.
    With accept_other_version=True a file with another checksum is kept (with a warning).
    """
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / remote.name
    failures = []
    for url in remote.urls:
        part = target_dir / f"{remote.name}.{os.getpid()}-{secrets.token_hex(4)}.part"
        _say(f"Downloading {url}")
        try:
            _fetch(url, part, remote.name)
            digest = _hash_file(part)
            if digest != remote.sha256:
                if not accept_other_version:
                    raise DatasetCorruptError(
                        f"downloaded file has sha256 {digest}, expected {remote.sha256}; rejected and deleted. "
                        + remote.note
                    )
                _say(f"  warning: {remote.name} has sha256 {digest}, not the pinned {remote.sha256}; kept as asked.")
            os.replace(part, target)
            _remember(target.absolute(), digest)
            return target
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append((url, _reason(error) if not isinstance(error, DatasetCorruptError) else str(error)))
            _say(f"  failed: {failures[-1][1]}")
        finally:
            part.unlink(missing_ok=True)
    raise _DownloadFailed(remote, failures)


class _DownloadFailed(Exception):
    def __init__(self, remote: RemoteFile, failures: list[tuple[str, str]]):
        super().__init__(remote.name)
        self.remote, self.failures = remote, failures


def _missing_message(folder: str, remotes, search: list[Path], write: Path, failures=(), hint: str = "") -> str:
    names = ", ".join(r.name for r in remotes)
    lines = [f"{TITLES.get(folder, folder)}: missing {names}.", "Looked in: " + ", ".join(map(str, search))]
    if hint:
        lines.append(hint)
    if failures:
        lines.append("Download attempts failed:")
        lines += [f"  {url} -> {reason}" for url, reason in failures]
    lines.append("Get each file from any of these URLs (its sha256 is checked before use):")
    for remote in remotes:
        lines.append(f"  {remote.name}  (sha256 {remote.sha256})")
        lines += [f"      {url}" for url in remote.urls]
    lines.append(
        f"and put them in {write}{os.sep} - or set the {ENV_VAR} environment variable to a directory "
        f"that holds a {folder}{os.sep} folder with these files."
    )
    return "\n".join(lines)


def _require_files(folder: str, explicit, download: bool, *, accept_other_version: bool = False,
                   hint: str = "") -> dict[str, Path]:
    """Find (or download) every file of REMOTE_FILES[folder]; return {name: verified path}."""
    remotes = REMOTE_FILES[folder]
    search, write = _locations(folder, explicit)
    found: dict[str, Path] = {}
    for remote in remotes:
        for folder_path in search:
            path = folder_path / remote.name
            if not path.is_file():
                continue
            digest = file_sha256(path)
            if digest == remote.sha256:
                found[remote.name] = path
            elif accept_other_version:
                _say(f"warning: {path} has sha256 {digest}, not the pinned {remote.sha256}; using it as asked.")
                found[remote.name] = path
            elif _is_ours(folder_path, write) and download:
                _say(f"{path} is corrupt (sha256 {digest}, expected {remote.sha256}); "
                     "removing it and downloading again.")
                path.unlink()
            else:
                raise DatasetCorruptError(_corrupt_message(path, remote.sha256, digest, remote.note))
            break
    missing = [r for r in remotes if r.name not in found]
    if missing and not download:
        raise DatasetNotFoundError(_missing_message(folder, missing, search, write, hint=hint))
    failures = []
    for remote in missing:
        try:
            found[remote.name] = download_file(remote, write, accept_other_version=accept_other_version)
        except _DownloadFailed as failed:
            failures.append(failed)
    if failures:
        attempts = [attempt for failed in failures for attempt in failed.failures]
        raise DatasetNotFoundError(
            _missing_message(folder, [f.remote for f in failures], search, write, attempts, hint)
        )
    return found


# --------------------------------------------------------------------------------------------
# MNIST (IDX files)
# --------------------------------------------------------------------------------------------

# IDX type byte -> element type (multi-byte types are big-endian in the file)
_IDX_TYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed if its name ends in .gz) into an array.

    IDX layout: magic = 2 zero bytes, a type byte (0x08 = uint8, ...), a byte with the number of
    dimensions d; then d big-endian uint32 sizes; then the values, row-major. The values are
    decompressed straight into one buffer that the returned array views (np.frombuffer, no copy).
    """
    path = Path(path)
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            magic = f.read(4)
            if len(magic) < 4 or magic[:2] != b"\0\0" or magic[2] not in _IDX_TYPES or magic[3] == 0:
                raise DatasetCorruptError(
                    f"{path} is not an IDX file: magic bytes {magic.hex(' ') or '(empty)'}, "
                    "expected 00 00 <type 08..0e> <number of dimensions>"
                )
            ndim, dtype = magic[3], np.dtype(_IDX_TYPES[magic[2]])
            dims = f.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise DatasetCorruptError(f"{path}: IDX header ends early (expected {ndim} dimensions)")
            shape = struct.unpack(f">{ndim}I", dims)
            values = bytearray(math.prod(shape) * dtype.itemsize)
            filled = _read_into(f, memoryview(values))
            if filled < len(values):
                raise DatasetCorruptError(
                    f"{path} is truncated: header says {shape}, i.e. {len(values)} bytes of data, found {filled}"
                )
            if f.read(1):
                raise DatasetCorruptError(f"{path} has data after the {len(values)} bytes its header {shape} announces")
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise DatasetCorruptError(f"{path} cannot be decompressed ({error}); the file is corrupt") from error
    array = np.frombuffer(values, dtype=dtype).reshape(shape)  # a writable view of `values`
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _read_into(f, view: memoryview) -> int:
    """Fill `view` from the binary stream `f` in chunks; return how many bytes were read."""
    filled = 0
    while filled < len(view):
        n = f.readinto(view[filled:filled + CHUNK_BYTES])
        if not n:
            break
        filled += n
    return filled


def _read_mnist_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DatasetCorruptError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28) (magic 2051), got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
        raise DatasetCorruptError(
            f"{labels_path}: expected {len(images)} uint8 labels (magic 2049), got {labels.dtype} {labels.shape}"
        )
    if labels.size and labels.max() > 9:
        raise DatasetCorruptError(f"{labels_path}: labels must be digits 0..9, found {labels.max()}")
    return images, labels


def _load_mnist_raw(explicit, download):
    paths = _require_files(MNIST, explicit, download)
    x_train, y_train = _read_mnist_split(paths["train-images-idx3-ubyte.gz"], paths["train-labels-idx1-ubyte.gz"])
    x_test, y_test = _read_mnist_split(paths["t10k-images-idx3-ubyte.gz"], paths["t10k-labels-idx1-ubyte.gz"])
    return x_train, y_train, x_test, y_test


def _prepare_images(x: np.ndarray, flatten: bool, normalize: bool) -> np.ndarray:
    if flatten:
        x = x.reshape(len(x), -1)
    if normalize:
        x = np.divide(x, 255, dtype=np.float32)  # one float32 array with values in [0, 1]
    return x


def load_mnist(data_dir=None, download: bool = True, flatten: bool = False, normalize: bool = False):
    """MNIST handwritten digits: (x_train, y_train, x_test, y_test).

    x_train (60000, 28, 28) uint8 in 0..255 and x_test (10000, 28, 28); labels uint8 digits 0..9.
    flatten=True gives (N, 784); normalize=True gives float32 in [0, 1].
    """
    x_train, y_train, x_test, y_test = _load_mnist_raw(data_dir, download)
    return _prepare_images(x_train, flatten, normalize), y_train, _prepare_images(x_test, flatten, normalize), y_test


def load_mnist_subset(n: int = 1000, seed: int = 0, n_test: int | None = None, data_dir=None,
                      download: bool = True, flatten: bool = False, normalize: bool = False):
    """A fixed random subset of MNIST, to check that training logic works in seconds.

    n training and n_test test samples (n_test defaults to min(n, 10000)), drawn without
    replacement by a generator seeded with `seed` and kept in dataset order. Same outputs as load_mnist.
    """
    x_train, y_train, x_test, y_test = _load_mnist_raw(data_dir, download)
    n_test = min(n, len(x_test)) if n_test is None else n_test
    for name, value, limit in (("n", n, len(x_train)), ("n_test", n_test, len(x_test))):
        if not 0 <= operator.index(value) <= limit:
            raise ValueError(f"{name} must be between 0 and {limit}, got {value}")
    rng = np.random.default_rng(seed)
    train_idx = np.sort(rng.choice(len(x_train), size=n, replace=False))
    test_idx = np.sort(rng.choice(len(x_test), size=n_test, replace=False))
    return (_prepare_images(x_train[train_idx], flatten, normalize), y_train[train_idx],
            _prepare_images(x_test[test_idx], flatten, normalize), y_test[test_idx])


# --------------------------------------------------------------------------------------------
# CIFAR-10
# --------------------------------------------------------------------------------------------

try:  # NumPy 2 moved the private module; pickles name it `numpy.core.multiarray`
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
except ImportError:  # NumPy 1.x
    from numpy.core.multiarray import _reconstruct as _np_reconstruct


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that can only rebuild plain NumPy arrays.

    Loading a pickle may call any importable function the pickle names (`os.system` included), so
    find_class refuses every global except the three a CIFAR-10 batch needs to rebuild its array.
    """

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refused to load the global {module}.{name}: only NumPy arrays may be unpickled here"
            ) from None


def _parse_cifar_batch(raw: bytes, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A canonical CIFAR-10 batch (a Python 2 pickle of {'data': (N, 3072) uint8, 'labels': [...]})
    -> x (N, 32, 32, 3) uint8 HWC, y (N,) uint8."""
    try:
        batch = RestrictedUnpickler(io.BytesIO(raw), encoding="latin1").load()
    except Exception as error:  # any failure means the bytes are not a genuine batch
        raise DatasetCorruptError(f"{where} is not a genuine CIFAR-10 batch: {error}") from error
    data = batch.get("data") if isinstance(batch, dict) else None
    labels = batch.get("labels") if isinstance(batch, dict) else None
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetCorruptError(f"{where}: expected 'data' as a (N, 3072) uint8 array")
    y = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if y.shape != (len(data),) or (y.size and (y.min() < 0 or y.max() > 9)):
        raise DatasetCorruptError(f"{where}: expected {len(data)} labels in 0..9")
    # each row holds the red plane, then green, then blue (32x32 each): CHW -> HWC
    x = data.reshape(len(data), 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x), y.astype(np.uint8)


def _save_npz(path: Path, **arrays) -> str:
    """np.savez_compressed through a .part file renamed into place; returns the file's sha256."""
    part = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        with open(part, "xb") as f:
            np.savez_compressed(f, **arrays)
        digest = _hash_file(part)
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)
    _remember(path.absolute(), digest)
    return digest


def convert_cifar10_tarball(tarball: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert the canonical cifar-10-python.tar.gz into the six .npz batches; return out_dir.

    Call only on a tarball whose sha256 was verified. Only the six batch members are read (nothing
    is extracted to disk), each through RestrictedUnpickler. SHA256SUMS is written last, so a
    conversion cut short is redone.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sums = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for batch in CIFAR10_BATCHES:
            where = f"{tarball}:cifar-10-batches-py/{batch}"
            try:
                member = tar.getmember(f"cifar-10-batches-py/{batch}")
            except KeyError:
                raise DatasetCorruptError(f"{where} is missing from the archive") from None
            if not member.isfile():
                raise DatasetCorruptError(f"{where} is not a regular file")
            _say(f"Converting {batch} -> {out_dir / (batch + '.npz')}")
            x, y = _parse_cifar_batch(tar.extractfile(member).read(), where)
            sums[f"{batch}.npz"] = _save_npz(out_dir / f"{batch}.npz", x=x, y=y)
    manifest = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    part = out_dir / f"{CIFAR10_MANIFEST}.{os.getpid()}.part"
    part.write_text(manifest, encoding="utf-8")
    os.replace(part, out_dir / CIFAR10_MANIFEST)
    return out_dir


def _npz_expected_sums(folder: Path) -> dict[str, str]:
    """Checksums for the .npz batches in `folder`: its SHA256SUMS if present, else the prepared copy's."""
    manifest = folder / CIFAR10_MANIFEST
    if not manifest.is_file():
        return CIFAR10_NPZ_SHA256
    sums = {}
    for line in manifest.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        sums[name.strip()] = digest.strip()
    return sums


def _cifar10_batch_dir(explicit, download: bool) -> Path:
    """A folder holding six verified .npz batches, converting the canonical tarball if needed."""
    search, write = _locations(CIFAR10, explicit)
    for folder in search:
        if not all((folder / name).is_file() for name in CIFAR10_NPZ_FILES):
            continue
        expected = _npz_expected_sums(folder)
        bad = [name for name in CIFAR10_NPZ_FILES if file_sha256(folder / name) != expected.get(name)]
        if not bad:
            return folder
        if _is_ours(folder, write) and (folder / CIFAR10_MANIFEST).is_file():
            _say(f"{folder}: converted batches {', '.join(bad)} are corrupt; converting them again.")
            for name in CIFAR10_NPZ_FILES + (CIFAR10_MANIFEST,):
                (folder / name).unlink(missing_ok=True)
            break
        path = folder / bad[0]
        raise DatasetCorruptError(_corrupt_message(path, str(expected.get(bad[0])), file_sha256(path)))
    hint = (f"No CIFAR-10 .npz batches ({', '.join(CIFAR10_NPZ_FILES)}) were found either; "
            "they are converted once from the canonical archive below.")
    tarball = _require_files(CIFAR10, explicit, download, hint=hint)[CIFAR10_TARBALL]
    return convert_cifar10_tarball(tarball, write)


def _read_npz_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as batch:
        x, y = batch["x"], batch["y"]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (32, 32, 3) or y.shape != (len(x),):
        raise DatasetCorruptError(f"{path}: expected x (N, 32, 32, 3) uint8 and y (N,), got {x.shape} {y.shape}")
    return x, y.astype(np.uint8, copy=False)


def load_cifar10(data_dir=None, download: bool = True, normalize: bool = False):
    """CIFAR-10: (x_train, y_train, x_test, y_test).

    x_train (50000, 32, 32, 3) uint8 HWC RGB, x_test (10000, 32, 32, 3); labels uint8 0..9, names
    in CIFAR10_CLASSES. normalize=True gives float32 in [0, 1].
    """
    folder = _cifar10_batch_dir(data_dir, download)
    batches = [_read_npz_batch(folder / name) for name in CIFAR10_NPZ_FILES]
    x_train = np.concatenate([x for x, _ in batches[:5]])
    y_train = np.concatenate([y for _, y in batches[:5]])
    x_test, y_test = batches[5]
    return _prepare_images(x_train, False, normalize), y_train, _prepare_images(x_test, False, normalize), y_test


# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------

def load_tinyshakespeare(data_dir=None, download: bool = True) -> str:
    """karpathy/char-rnn's TinyShakespeare: one string of 1,115,394 characters (65 distinct)."""
    path = _require_files(SHAKESPEARE, data_dir, download)["input.txt"]
    return path.read_bytes().decode("utf-8")


def load_fra_eng(data_dir=None, download: bool = True, max_pairs: int | None = None,
                 allow_other_version: bool = False) -> list[tuple[str, str]]:
    """English-French sentence pairs (Tatoeba via manythings.org/anki, 2017-09-29 export).

    Returns [(english, french), ...] read from fra.txt inside fra-eng.zip (142,787 pairs, shortest
    English first; the first pair is ("Go.", "Va !")). max_pairs keeps only the first pairs.
    allow_other_version=True accepts an archive with another checksum (a newer export).
    Data: CC BY 2.0, attribution www.manythings.org/anki and tatoeba.org.
    """
    if max_pairs is not None and operator.index(max_pairs) < 0:
        raise ValueError(f"max_pairs must be >= 0 or None, got {max_pairs}")
    path = _require_files(FRA_ENG, data_dir, download, accept_other_version=allow_other_version)["fra-eng.zip"]
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read("fra.txt").decode("utf-8")  # zipfile checks the member's CRC-32
    except (zipfile.BadZipFile, KeyError) as error:
        raise DatasetCorruptError(f"{path}: cannot read fra.txt from the archive ({error})") from error
    pairs = []
    for line_number, line in enumerate(text.split("\n"), start=1):
        if max_pairs is not None and len(pairs) >= max_pairs:
            break
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")  # newer exports add a third, attribution column
        if len(fields) < 2:
            raise DatasetCorruptError(f"{path}: fra.txt line {line_number} has no TAB between English and French")
        pairs.append((fields[0], fields[1]))
    return pairs


# --------------------------------------------------------------------------------------------
# Mini-batches
# --------------------------------------------------------------------------------------------

def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The sample order of one epoch: a function of (seed, epoch) only.

    A run resumed at epoch 5 therefore replays exactly the batches an uninterrupted run would have
    used, which a single Generator drawn from epoch after epoch cannot promise.
    """
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


class BatchIterator:
    """Mini-batches over (x, y), in a new random order every epoch.

        batches = BatchIterator(x, y, batch_size=64, seed=0)   # create once ...
        for epoch in range(10):
            batches.set_epoch(epoch)                              # (optional: see below)
            for xb, yb in batches:                                # ... loop every epoch
                ...

    x: (N, ...) array; y: (N, ...) array or None (then each batch is just xb).
    Epoch e is ordered by epoch_permutation(N, seed, e): the same seed gives the same orders, and
    consecutive epochs get different ones. Each pass over the iterator moves on to the next epoch;
    set_epoch(e) says which epoch comes next (what a resumed run does). seed=None draws a fresh seed.
    shuffle=False keeps the dataset order (batches are then views, no copy). drop_last=True drops the
    last batch if it is smaller than batch_size. len() is the number of batches.
    reuse_buffers=True gathers every batch into the same two preallocated arrays instead of new ones
    (no allocation per step); a batch is then valid only until the next one is drawn.
    """

    def __init__(self, x, y=None, batch_size: int = 64, shuffle: bool = True, seed: int | None = 0,
                 drop_last: bool = False, reuse_buffers: bool = False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be an integer, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.x = np.asarray(x)
        self.y = None if y is None else np.asarray(y)
        if self.x.ndim == 0:
            raise ValueError("x must have a first (sample) axis")
        if self.y is not None and (self.y.ndim == 0 or len(self.y) != len(self.x)):
            raise ValueError(f"x and y must have the same number of samples, got {len(self.x)} and "
                             f"{self.y.shape[0] if self.y.ndim else 'a scalar'}")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), shuffle, drop_last
        self.seed = int(np.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self.epoch = 0
        self.reuse_buffers = reuse_buffers
        self._x_buffer = self._y_buffer = None

    def set_epoch(self, epoch: int) -> None:
        """The next pass yields the batches of this epoch."""
        if epoch < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)

    def __len__(self) -> int:
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        epoch, self.epoch = self.epoch, self.epoch + 1
        order = epoch_permutation(len(self.x), self.seed, epoch) if self.shuffle else None
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = start + self.batch_size
            if order is None:
                xb = self.x[start:stop]  # a view: no copy
                yb = None if self.y is None else self.y[start:stop]
            elif self.reuse_buffers:
                xb, yb = self._gather_into_buffers(order[start:stop])
            else:
                index = order[start:stop]  # one gather per batch
                xb = self.x[index]
                yb = None if self.y is None else self.y[index]
            yield xb if self.y is None else (xb, yb)

    def _gather_into_buffers(self, index):
        if self._x_buffer is None:
            self._x_buffer = np.empty((self.batch_size,) + self.x.shape[1:], dtype=self.x.dtype)
            if self.y is not None:
                self._y_buffer = np.empty((self.batch_size,) + self.y.shape[1:], dtype=self.y.dtype)
        xb = np.take(self.x, index, axis=0, out=self._x_buffer[:len(index)])
        yb = None if self.y is None else np.take(self.y, index, axis=0, out=self._y_buffer[:len(index)])
        return xb, yb


# --------------------------------------------------------------------------------------------
# Verification and command line
# --------------------------------------------------------------------------------------------

def _check(path: Path, expected: str | None) -> str:
    return "OK" if expected is not None and file_sha256(path) == expected else "CORRUPT"


def _verify_entries(explicit=None) -> list[tuple[str, str, Path | None]]:
    """[(folder/file, "OK" | "MISSING" | "CORRUPT", path found or None)] for every known file."""
    entries = []
    for folder, remotes in REMOTE_FILES.items():
        search, _ = _locations(folder, explicit)
        if folder == CIFAR10:
            for name in CIFAR10_NPZ_FILES:
                path = next((d / name for d in search if (d / name).is_file()), None)
                status = "MISSING" if path is None else _check(path, _npz_expected_sums(path.parent).get(name))
                entries.append((f"{folder}/{name}", status, path))
        for remote in remotes:
            path = next((d / remote.name for d in search if (d / remote.name).is_file()), None)
            if path is None and folder == CIFAR10:
                continue  # the tarball is only needed until the .npz batches exist
            status = "MISSING" if path is None else _check(path, remote.sha256)
            entries.append((f"{folder}/{remote.name}", status, path))
    return entries


def verify_all(data_dir=None) -> dict[str, str]:
    """Check every dataset file: {"mnist/train-images-idx3-ubyte.gz": "OK" | "MISSING" | "CORRUPT", ...}.

    CIFAR-10 is listed by its six .npz batches, plus the canonical tarball when one is present.
    """
    return {key: status for key, status, _ in _verify_entries(data_dir)}


DATASET_NAMES = {"mnist": MNIST, "cifar10": CIFAR10, "tinyshakespeare": SHAKESPEARE, "fra-eng": FRA_ENG}


def missing_reason(name: str, data_dir=None) -> str | None:
    """None when dataset `name` can be loaded without a download, else one sentence saying what to do.

    Only checks that the files are there (no hashing, no network): tests call it to skip with a clear
    reason instead of failing on data that was never fetched. The loaders still verify checksums.
    """
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}: one of {sorted(DATASET_NAMES)}")
    folder = DATASET_NAMES[name]
    search, _ = _locations(folder, data_dir)
    needed = [[r.name for r in REMOTE_FILES[folder]]]
    if folder == CIFAR10:  # the six converted batches, or the tarball they are converted from
        needed = [list(CIFAR10_NPZ_FILES), [CIFAR10_TARBALL]]
    for names in needed:
        if any(all((d / n).is_file() for n in names) for d in search):
            return None
    places = " or ".join(str(d) for d in search)
    return (f"{TITLES[folder]} is not on this machine (looked in {places}): "
            f"run `python -m dlfs.datasets --download {name}`, or set {ENV_VAR} to a folder that has {folder}/")


_LOADERS = {
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "tinyshakespeare": load_tinyshakespeare,
    "fra-eng": load_fra_eng,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlfs.datasets", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--verify", action="store_true", help="check every dataset file (exit 1 unless all OK)")
    action.add_argument("--download", choices=[*_LOADERS, "all"], help="download (and check) a dataset")
    parser.add_argument("--data-dir", default=None, help=f"data directory (default: ${ENV_VAR}, else the user cache)")
    args = parser.parse_args(argv)

    print(f"Data directory: {data_dir(args.data_dir)} ({_data_dir_origin(args.data_dir)}); user cache: {cache_dir()}")
    if args.download:
        for name in _LOADERS if args.download == "all" else [args.download]:
            try:
                _LOADERS[name](data_dir=args.data_dir, download=True)
            except (DatasetNotFoundError, DatasetCorruptError) as error:
                print(f"{name}: {error}", file=sys.stderr)
                return 1
            print(f"{name}: ready")
        return 0

    entries = _verify_entries(args.data_dir)
    for key, status, path in entries:
        print(f"{status:8} {key:40} {path or ''}")
    counts = {s: sum(1 for _, status, _ in entries if status == s) for s in ("OK", "MISSING", "CORRUPT")}
    print(", ".join(f"{n} {s}" for s, n in counts.items()))
    if counts["MISSING"]:
        print("Missing files are downloaded on first use, or now with: python -m dlfs.datasets --download all")
    return 0 if counts["OK"] == len(entries) else 1


if __name__ == "__main__":
    sys.exit(main())
