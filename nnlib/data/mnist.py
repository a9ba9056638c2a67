"""Full MNIST and Fashion-MNIST: the standard IDX files, read with NumPy only.

Files live in a cache folder: ``$NNLIB_DATA`` or ``~/.cache/nnlib``, one subfolder per
data set. Every file is checked against its published SHA-256 (once: a ``.verified``
marker remembers it), so a damaged or fake file never loads. A missing file is downloaded
from each mirror in turn, with a progress bar and a deadline (``timeout``, see
:mod:`nnlib.data.download`), and renamed into place only when its checksum matches.
Offline, the error names the folder and the exact files to put there by hand (gzipped or
unpacked), and :func:`load_mnist_or_sample` falls back to the offline sample.
"""

from __future__ import annotations

import gzip
import http.client
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .download import (
    DatasetUnavailableError,
    MirrorDownError,
    cache_dir,
    check_cache_root,
    download_file,
    download_timeout,
    ensure_writable_folder,
    is_verified,
    remove_stale_partials,
)
from .real import load_mnist_sample
from .utils import train_test_split

__all__ = ["read_idx", "cache_dir", "fetch", "load_mnist", "load_fashion_mnist",
           "load_mnist_or_sample", "DatasetUnavailableError", "MNIST", "FASHION_MNIST"]

# IDX type codes (third magic byte) -> big-endian NumPy dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DataFile(NamedTuple):
    """One file of a data set: its name on the mirrors (gzipped) and the SHA-256 of the
    gzipped file and of the unpacked one (for a copy placed by hand after gunzip)."""

    name: str
    sha256: str
    raw_sha256: str

    @property
    def raw_name(self):
        return self.name.removesuffix(".gz")


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set comes from: its cache subfolder, mirrors and files."""

    name: str
    folder: str
    mirrors: tuple
    files: dict  # role -> DataFile


# Checksums as published with the data sets (the unpacked ones cross-checked in several
# independent projects that pin them).
MNIST = DatasetSpec("MNIST", "mnist", (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
), {
    "train_images": DataFile(
        "train-images-idx3-ubyte.gz",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train_labels": DataFile(
        "train-labels-idx1-ubyte.gz",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "test_images": DataFile(
        "t10k-images-idx3-ubyte.gz",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "test_labels": DataFile(
        "t10k-labels-idx1-ubyte.gz",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
})

FASHION_MNIST = DatasetSpec("Fashion-MNIST", "fashion-mnist", (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
), {
    "train_images": DataFile(
        "train-images-idx3-ubyte.gz",
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "train_labels": DataFile(
        "train-labels-idx1-ubyte.gz",
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "test_images": DataFile(
        "t10k-images-idx3-ubyte.gz",
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "test_labels": DataFile(
        "t10k-labels-idx1-ubyte.gz",
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
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


def _cached(folder, file, bad):
    """The intact cached copy of ``file`` (gzipped, else unpacked), or None. Copies that
    fail their checksum are appended to ``bad``."""
    for path, sha256 in ((folder / file.name, file.sha256),
                         (folder / file.raw_name, file.raw_sha256)):
        if path.is_file():
            if is_verified(path, sha256):
                return path
            bad.append(path)
    return None


def fetch(spec=MNIST, *, cache=None, download=True, mirrors=None, timeout=None, quiet=False):
    """Make sure every file of ``spec`` is in the cache and intact; return ``{role: path}``.

    A cached ``.gz`` is used, or its unpacked twin (the name without ``.gz``) if only that
    was placed by hand, once its SHA-256 matches (checked once, then remembered). Missing
    or damaged files are downloaded from ``mirrors`` (default: the spec's) in order; a
    mirror that fails or serves a file with the wrong checksum is skipped.

    Parameters
    ----------
    cache : path, optional
        The cache folder (default :func:`cache_dir`); the data set goes in a subfolder.
    download : bool
        False never touches the network.
    timeout : float, optional
        Seconds one file may take from one mirror, start to finish (default
        ``$NNLIB_DOWNLOAD_TIMEOUT``, else 300). A mirror that cannot be reached, sends
        nothing for ``min(timeout, 10)`` s or misses the deadline is skipped for the
        remaining files, so an offline machine fails in seconds.

    Raises
    ------
    DatasetUnavailableError when a file is missing or damaged and cannot be downloaded,
    or when the cache is a file or not writable; the message names the folder, the files
    and the fix.
    """
    timeout = download_timeout(timeout)
    root = Path(cache).expanduser() if cache is not None else cache_dir()
    check_cache_root(root)
    folder = root / spec.folder
    mirrors = tuple(mirrors or spec.mirrors)
    paths, missing, bad, reasons, down = {}, [], [], {}, set()
    for role, file in spec.files.items():
        bad_copies = []
        paths[role] = _cached(folder, file, bad_copies)
        if paths[role] is not None:
            continue
        if download:
            ensure_writable_folder(folder, root)
            dest = folder / file.name
            remove_stale_partials(dest, timeout)
            for mirror in mirrors:
                if mirror in down:
                    continue
                try:
                    download_file(mirror + file.name, dest, file.sha256, timeout=timeout,
                                  quiet=quiet)
                    paths[role] = dest
                    break
                except MirrorDownError as e:
                    down.add(mirror)
                    reasons[mirror] = str(e)
                except (OSError, http.client.HTTPException) as e:  # URLError is an OSError
                    reasons[mirror] = str(e)
        if paths[role] is None:
            missing.append(file.name)
            bad += bad_copies
    if missing:
        raise DatasetUnavailableError(_unavailable_message(spec, folder, download, mirrors,
                                                           missing, bad, reasons, down))
    return paths


def _unavailable_message(spec, folder, download, mirrors, missing, bad, reasons, down):
    if not download:
        why = "download=False"
    elif down.issuperset(mirrors):
        why = "offline? no mirror could be reached"
    else:
        why = "every mirror failed"
    text = f"{spec.name} is not in the cache and could not be downloaded ({why})."
    if bad:
        text += (f" These cached files failed their SHA-256 check (damaged, or not the "
                 f"original files): {', '.join(str(p) for p in bad)}; delete them.")
    if reasons:
        text += " Mirrors: " + "; ".join(f"{m} {r}" for m, r in reasons.items()) + "."
    return (text + f" Put these files in {folder} by hand, gzipped or unpacked: "
            f"{', '.join(missing)}. They are the standard IDX files from any {spec.name} "
            f"mirror, e.g. {spec.mirrors[0]}")


def _load(spec, *, cache=None, download=True, images=True, mirrors=None, timeout=None,
          quiet=False):
    paths = fetch(spec, cache=cache, download=download, mirrors=mirrors, timeout=timeout,
                  quiet=quiet)
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


def load_mnist(*, cache=None, download=True, images=True, mirrors=None, timeout=None,
               quiet=False):
    """The 70,000 MNIST digits: ``(x_train, y_train), (x_test, y_test)``.

    x is float32 in [0, 1], shape (N, 1, 28, 28) (or (N, 784) with ``images=False``);
    y is int64, 0-9. 60,000 training and 10,000 test images. ``cache``, ``download``,
    ``mirrors``, ``timeout`` and ``quiet`` are as in :func:`fetch`.
    """
    return _load(MNIST, cache=cache, download=download, images=images, mirrors=mirrors,
                 timeout=timeout, quiet=quiet)


def load_fashion_mnist(*, cache=None, download=True, images=True, mirrors=None, timeout=None,
                       quiet=False):
    """Fashion-MNIST (Zalando): same shapes as :func:`load_mnist`, ten kinds of clothing
    (names in ``nnlib.data.mnist.FASHION_CLASSES``)."""
    return _load(FASHION_MNIST, cache=cache, download=download, images=images,
                 mirrors=mirrors, timeout=timeout, quiet=quiet)


def load_mnist_or_sample(*, download=True, test_size=1000, rng=0, images=True, timeout=None,
                         quiet=False):
    """Full MNIST when cached or downloadable, else the offline 5,000-image sample.

    Chapters call this and print ``source`` so a learner always knows which one ran. Any
    reason full MNIST cannot be had -- offline, a damaged cache, an unusable
    ``$NNLIB_DATA`` -- gives the sample, with the reason in ``source``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test), source : str
    """
    timeout = download_timeout(timeout, "load_mnist_or_sample")  # a bad setting is an error
    try:
        train, test = load_mnist(download=download, images=images, timeout=timeout,
                                 quiet=quiet)
        return train, test, "full MNIST (60,000 training / 10,000 test images)"
    except (OSError, ValueError) as e:  # DatasetUnavailableError is an OSError
        x, y = load_mnist_sample(images=images)
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, rng=rng, stratify=y)
        reason = str(e).split(". ")[0]
        if not reason[1:2].isupper():  # "MNIST is ..." keeps its capitals
            reason = reason[0].lower() + reason[1:]
        return (x_tr, y_tr), (x_te, y_te), (
            f"offline MNIST sample ({len(x_tr):,} training / {len(x_te):,} test images), "
            f"because {reason}")
