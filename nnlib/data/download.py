"""Downloads into the data cache: bounded in time, safe to interrupt or to run twice at once,
and verified once.

- **Deadline.** One file from one mirror may take at most ``timeout`` seconds in all
  (default 300, or ``$NNLIB_DOWNLOAD_TIMEOUT``). A mirror that does not connect, or sends
  nothing for ``min(timeout, 10)`` seconds, or misses the deadline, is *down*: it is
  skipped for the other files of the same call, so an offline machine fails in seconds and
  a dead mirror costs its wait once, not once per file.
- **Atomic and concurrent.** Bytes go to a partial file with a unique name
  (``<file>.<random>.partial``) that is renamed into place only when its SHA-256 matches.
  An interrupted download never leaves a bad cache, and two processes fetching the same
  file both end with it (the second rename replaces the file by identical bytes).
- **Verified once.** A file whose checksum matched gets a marker ``<file>.verified`` with
  its hash, size and modification time; later loads trust a file whose marker still
  matches and hash it again only when it changed. A read-only cache just hashes every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from .._validation import check_float

__all__ = ["DatasetUnavailableError", "MirrorDownError", "DEFAULT_TIMEOUT", "TIMEOUT_ENV",
           "download_timeout", "cache_dir", "check_cache_root", "ensure_writable_folder",
           "file_sha256", "is_verified", "download_file"]

DEFAULT_TIMEOUT = 300.0  # seconds for one file from one mirror, start to finish
STALL_SECONDS = 10.0     # no connection, or no byte, for this long: the mirror is down
TIMEOUT_ENV = "NNLIB_DOWNLOAD_TIMEOUT"
CACHE_ENV = "NNLIB_DATA"


class DatasetUnavailableError(OSError):
    """A data set is not cached (or not intact) and could not be downloaded."""


class MirrorDownError(OSError):
    """A mirror could not be reached, stopped sending, or missed the deadline.

    Unlike a missing file (HTTP 404) or a wrong checksum, this would repeat for every file,
    so the caller skips the mirror for the rest of its call.
    """


def download_timeout(timeout=None, owner="fetch"):
    """The download deadline in seconds: ``timeout`` if given, else ``$NNLIB_DOWNLOAD_TIMEOUT``,
    else 300. Raises ``ValueError`` naming the argument or the variable for anything but a
    finite number > 0."""
    if timeout is not None:
        return check_float(owner, "timeout", timeout, low=0, low_open=True)
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"${TIMEOUT_ENV} must be a number of seconds > 0 (the most one file "
                         f"may take from one mirror), e.g. {TIMEOUT_ENV}=60. Got {raw!r}.")
    return value


def cache_dir():
    """The data cache: ``$NNLIB_DATA`` if set, else ``~/.cache/nnlib``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "nnlib").expanduser()


def _where(root):
    from_env = os.environ.get(CACHE_ENV) and Path(os.environ[CACHE_ENV]).expanduser() == root
    return f"${CACHE_ENV}={root}" if from_env else f"the data cache {root}"


def check_cache_root(root):
    """Raise ``DatasetUnavailableError`` with the fix when ``root`` exists but is not a folder."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise DatasetUnavailableError(
            f"{_where(root)} is a file, not a folder. Point ${CACHE_ENV} at a folder "
            f"(e.g. export {CACHE_ENV}=~/nnlib-data) or unset it to use ~/.cache/nnlib.")


def ensure_writable_folder(folder, root):
    """Create ``folder`` if needed and make sure files can be written in it.

    Raises ``DatasetUnavailableError`` naming the folder, the reason and the fix.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        reason = e.strerror or str(e)
        raise DatasetUnavailableError(
            f"{_where(root)} cannot hold downloads: writing in {folder} failed ({reason}). "
            f"Point ${CACHE_ENV} at a folder you can write to (e.g. export "
            f"{CACHE_ENV}=~/nnlib-data), or put the files in {folder} by hand.") from None


def file_sha256(path):
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _marker(path):
    return path.with_name(path.name + ".verified")


def _stamp(path, sha256):
    stat = path.stat()
    return f"{sha256} {stat.st_size} {stat.st_mtime_ns}"


def _write_atomically(path, text):
    """Write ``text`` to ``path`` via a unique temporary file and a rename; ``OSError`` if
    the folder is not writable."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _mark_verified(path, sha256):
    with contextlib.suppress(OSError):  # a read-only cache: hashed again next time
        _write_atomically(_marker(path), _stamp(path, sha256))


def is_verified(path, sha256):
    """True when ``path`` has SHA-256 ``sha256``: from its marker when the file has not
    changed since it was verified, else by hashing it (and then writing the marker)."""
    path = Path(path)
    try:
        if _marker(path).read_text().strip() == _stamp(path, sha256):
            return True
    except OSError:
        pass
    if file_sha256(path) != sha256:
        return False
    _mark_verified(path, sha256)
    return True


def remove_stale_partials(dest, timeout):
    """Delete partial files of ``dest`` left by a killed process. A live download's partial
    is younger than its deadline, so anything older than an hour (and than twice the
    deadline) is dead."""
    limit = time.time() - max(3600.0, 2 * timeout)
    for stale in dest.parent.glob(dest.name + "*.partial"):
        try:
            if stale.stat().st_mtime < limit:
                stale.unlink()
        except OSError:
            pass  # gone already, or not ours to delete


def _progress(total, name, quiet):
    if quiet:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print(f"downloading {name} ({total or '?'} bytes) ...", file=sys.stderr, flush=True)
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False)


def _open(url, wait):
    try:
        return urllib.request.urlopen(url, timeout=wait)
    except urllib.error.HTTPError:
        raise  # the server answered: this file is missing there, the mirror is fine
    except urllib.error.URLError as e:  # DNS, refused, unreachable, TLS, connect timeout
        raise MirrorDownError(f"no connection ({e.reason})") from None
    except TimeoutError:
        raise MirrorDownError(f"no answer within {wait:g} s") from None


def download_file(url, dest, sha256, *, timeout, quiet=False):
    """Fetch ``url`` into ``dest`` within ``timeout`` seconds; keep it only if its SHA-256
    is ``sha256``.

    Raises
    ------
    MirrorDownError
        no connection, nothing received for ``min(timeout, 10)`` s, or the deadline passed.
    OSError or http.client.HTTPException
        an HTTP error, a transfer cut short, or a checksum mismatch.
    Nothing is left behind on failure; ``dest`` changes only by one atomic rename.
    """
    start = time.monotonic()
    wait = min(timeout, STALL_SECONDS)
    fd, partial = tempfile.mkstemp(prefix=dest.name + ".", suffix=".partial", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f, _open(url, wait) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _progress(total, dest.name, quiet)
            received = 0
            try:
                while True:
                    elapsed = time.monotonic() - start
                    if elapsed > timeout:
                        raise MirrorDownError(
                            f"too slow: {received} of {total or '?'} bytes after "
                            f"{elapsed:.0f} s (the deadline is timeout={timeout:g} s; raise it "
                            f"with timeout= or ${TIMEOUT_ENV} on a slow connection)")
                    try:
                        block = response.read1(1 << 16)  # whatever arrived, not a full block
                    except TimeoutError:
                        raise MirrorDownError(f"stopped sending for {wait:g} s after "
                                              f"{received} bytes") from None
                    if not block:
                        break
                    f.write(block)
                    received += len(block)
                    if bar is not None:
                        bar.update(len(block))
            finally:
                if bar is not None:
                    bar.close()
            if total is not None and received != total:
                raise OSError(f"transfer interrupted after {received} of {total} bytes")
        actual = file_sha256(partial)
        if actual != sha256:
            raise OSError(f"checksum mismatch: SHA-256 {actual[:16]}..., expected "
                          f"{sha256[:16]}...")
        os.replace(partial, dest)
        _mark_verified(dest, sha256)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
