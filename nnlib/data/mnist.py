"""Full MNIST and Fashion-MNIST: the standard IDX files, read with NumPy only.

Files live in a cache folder: ``$NNLIB_DATA`` or ``~/.cache/nnlib``, one subfolder per
data set. A missing file is downloaded from each mirror in turn, with a progress bar,
into ``<name>.partial``; only a file whose SHA-256 matches is renamed into place, so an
interrupted or corrupted download never leaves a bad cache. Offline, the error names the
folder and the exact files to put there by hand (gzipped or unpacked).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "cache_dir", "fetch", "load_mnist", "load_fashion_mnist",
           "load_mnist_or_sample", "DatasetUnavailableError", "MNIST", "FASHION_MNIST"]

# IDX type codes (third magic byte) -> big-endian NumPy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetUnavailableError(OSError):
    """A data set is not cached and could not be downloaded."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set comes from: its cache subfolder, mirrors and files."""

    name: str
    folder: str
    mirrors: tuple
    files: dict  # role -> (file name, SHA-256 of the .gz)


MNIST = DatasetSpec("MNIST", "mnist", (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
), {
    "train_images": ("train-images-idx3-ubyte.gz",
                     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train_labels": ("train-labels-idx1-ubyte.gz",
                     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "test_images": ("t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
})

FASHION_MNIST = DatasetSpec("Fashion-MNIST", "fashion-mnist", (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
), {
    "train_images": ("train-images-idx3-ubyte.gz",
                     "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    "train_labels": ("train-labels-idx1-ubyte.gz",
                     "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    "test_images": ("t10k-images-idx3-ubyte.gz",
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    "test_labels": ("t10k-labels-idx1-ubyte.gz",
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
})

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


def read_idx(path):
    """Read an IDX file (gzipped if the name ends in .gz) into an ndarray.

    The format: two zero bytes, a type code, the number of dimensions d, then d
    big-endian uint32 sizes and the data in row-major order.

    Raises
    ------
    ValueError naming the file for a wrong magic number, an unknown type, or a file
    shorter or longer than its header says.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip raises these for truncated/corrupt archives
        raise ValueError(f"{path} is not a readable IDX file ({e}). Delete it so that it is "
                         f"downloaded again, or replace it by hand.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file: bad magic number {raw[:4].hex()!r} "
                         f"(expected 0000 then a type code and the number of dimensions).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated: its header needs {header} bytes.")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path} is truncated or damaged: the header promises shape {shape} "
                         f"({expected} bytes) but the file holds {len(raw)}. Delete it so "
                         f"that it is downloaded again.")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def cache_dir():
    """The data cache: ``$NNLIB_DATA`` if set, else ``~/.cache/nnlib``."""
    return Path(os.environ.get("NNLIB_DATA") or Path.home() / ".cache" / "nnlib")


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(total, name, quiet):
    if quiet:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print(f"downloading {name} ({total or '?'} bytes) ...", file=sys.stderr, flush=True)
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False)


def _download(url, dest, sha256, timeout, quiet):
    """Fetch ``url`` into ``dest`` via ``dest.partial`` and an atomic rename, only if the
    SHA-256 matches. Any failure leaves no partial file and raises."""
    partial = dest.with_name(dest.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as f:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _progress(total, dest.name, quiet)
            try:
                while block := response.read(1 << 16):
                    f.write(block)
                    if bar is not None:
                        bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()
            if total is not None and f.tell() != total:
                raise OSError(f"transfer interrupted after {f.tell()} of {total} bytes")
        actual = _sha256(partial)
        if actual != sha256:
            raise OSError(f"checksum mismatch: SHA-256 {actual[:16]}..., expected "
                          f"{sha256[:16]}...")
        os.replace(partial, dest)
    finally:
        if partial.exists():
            partial.unlink()


def fetch(spec=MNIST, *, cache=None, download=True, mirrors=None, timeout=30, quiet=False):
    """Make sure every file of ``spec`` is in the cache; return ``{role: path}``.

    A cached ``.gz`` is used as it is, or its unpacked twin (the name without ``.gz``)
    if only that was placed by hand. Missing files are downloaded from ``mirrors``
    (default: the spec's) in order; a mirror that fails or serves a file with the wrong
    checksum is skipped.

    Raises
    ------
    DatasetUnavailableError when a file is missing and cannot be downloaded.
    """
    folder = Path(cache or cache_dir()) / spec.folder
    paths, missing = {}, []
    for role, (name, sha256) in spec.files.items():
        gz, raw = folder / name, folder / name.removesuffix(".gz")
        if gz.exists() or raw.exists():
            paths[role] = gz if gz.exists() else raw
            continue
        if not download:
            missing.append(name)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        errors = []
        for mirror in mirrors or spec.mirrors:
            try:
                _download(mirror + name, gz, sha256, timeout, quiet)
                paths[role] = gz
                break
            except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
                errors.append(f"{mirror}: {e}")
        else:
            missing.append(name)
            if not quiet:
                print(f"could not download {name}:\n  " + "\n  ".join(errors), file=sys.stderr)
    if missing:
        raise DatasetUnavailableError(
            f"{spec.name} is not in the cache and could not be downloaded"
            f"{' (download=False)' if not download else ' (offline?)'}. Put these files in "
            f"{folder} by hand, gzipped or unpacked: {', '.join(missing)}. They are the "
            f"standard IDX files from any {spec.name} mirror, e.g. {spec.mirrors[0]}.")
    return paths


def _load(spec, cache, download, images, mirrors, quiet):
    paths = fetch(spec, cache=cache, download=download, mirrors=mirrors, quiet=quiet)
    out = []
    for split in ("train", "test"):
        x = read_idx(paths[f"{split}_images"])
        y = read_idx(paths[f"{split}_labels"])
        if x.ndim != 3 or y.shape != x.shape[:1]:
            raise ValueError(f"{spec.name} {split} files disagree: images {x.shape}, labels "
                             f"{y.shape}. Delete them so that they are downloaded again.")
        x = (x / np.float32(255)).astype(np.float32)
        x = x[:, None] if images else x.reshape(len(x), -1)
        out.append((x, y.astype(np.int64)))
    return tuple(out)


def load_mnist(*, cache=None, download=True, images=True, mirrors=None, quiet=False):
    """The 70,000 MNIST digits: ``(x_train, y_train), (x_test, y_test)``.

    x is float32 in [0, 1], shape (N, 1, 28, 28) (or (N, 784) with ``images=False``);
    y is int64, 0-9. 60,000 training and 10,000 test images.
    """
    return _load(MNIST, cache, download, images, mirrors, quiet)


def load_fashion_mnist(*, cache=None, download=True, images=True, mirrors=None, quiet=False):
    """Fashion-MNIST (Zalando): same shapes as :func:`load_mnist`, ten kinds of clothing
    (names in ``nnlib.data.mnist.FASHION_CLASSES``)."""
    return _load(FASHION_MNIST, cache, download, images, mirrors, quiet)


def load_mnist_or_sample(*, download=True, test_size=1000, rng=0, images=True, quiet=False):
    """Full MNIST when cached or downloadable, else the offline 5,000-image sample.

    Chapters call this and print ``source`` so a learner always knows which one ran.

    Returns
    -------
    (x_train, y_train), (x_test, y_test), source : str
    """
    try:
        train, test = load_mnist(download=download, images=images, quiet=quiet)
        return train, test, "full MNIST (60,000 training / 10,000 test images)"
    except (DatasetUnavailableError, ValueError) as e:
        from .real import load_mnist_sample
        from .utils import train_test_split

        x, y = load_mnist_sample(images=images)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, rng=rng, stratify=y)
        reason = str(e).split(". ")[0]
        if not reason[1:2].isupper():  # "MNIST is ..." keeps its capitals
            reason = reason[0].lower() + reason[1:]
        return (x_tr, y_tr), (x_te, y_te), (
            f"offline MNIST sample ({len(x_tr):,} training / {len(x_te):,} test images), "
            f"because {reason}")
