"""Convolution, pooling and a small CNN: nnlib vs naive loops vs SciPy per channel vs
PyTorch CPU (when installed), in one run with the same thread count.

    python benchmarks/bench_conv.py --threads 1
    python benchmarks/bench_conv.py --threads 2

Targets (issue 13, with the CPU's own BLAS kernels, at one thread): Conv2D 8->16 3x3
valid on (64, 8, 14, 14), forward + backward + SGD step, at most 1.1x PyTorch CPU; the
small CNN's training step at most 0.85x. (Issue 3: Conv2D forward + backward at most
1.5x, a CNN epoch at most 2x.) Every candidate computes the same gradients (dx, dW, db
for the layer benchmarks; parameter gradients only for the training step and epoch).
Naive loops are timed on a batch of 2 and scaled to the batch of 64 (they take seconds).
"""

from _timing import against_torch, compare, load_torch, parse_threads, report, time_block

args = parse_threads(__doc__)

import numpy as np  # noqa: E402  (after the thread count is set)
from scipy import signal  # noqa: E402

import nnlib as nl  # noqa: E402
from nnlib.functional import conv as C  # noqa: E402

BATCH = 64
CONV_SHAPES = [((BATCH, 1, 28, 28), 8), ((BATCH, 8, 14, 14), 16)]


def scipy_conv(x, W, b, dout):
    """Forward + backward with scipy.signal per (sample, filter, channel)."""
    n, c = x.shape[:2]
    f = W.shape[0]
    out = np.empty((n, f, *x.shape[2:]), dtype=x.dtype)
    dx, dW = np.zeros_like(x), np.zeros_like(W)
    for s in range(n):
        for k in range(f):
            out[s, k] = b[k] + sum(signal.correlate2d(x[s, ch], W[k, ch], "same")
                                   for ch in range(c))
            for ch in range(c):
                dx[s, ch] += signal.convolve2d(dout[s, k], W[k, ch], "same")
                dW[k, ch] += signal.correlate2d(np.pad(x[s, ch], 1), dout[s, k], "valid")
    return out, dx, dW


def conv_candidates(x_shape, filters, torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    layer = nl.Conv2D(x_shape[1], filters, 3, padding="same", rng=0)
    dout = rng.standard_normal((BATCH, filters, *x_shape[2:]), dtype=np.float32)

    def nnlib_step():
        layer.forward(x)
        layer.zero_grad()
        layer.backward(dout)

    small = slice(0, 2)

    def naive_step():  # batch of 2, scaled below
        C.conv2d_naive(x[small], layer.W.data, layer.b.data, 1, "same")
        C.conv2d_backward_naive(dout[small], x[small], layer.W.data, 1, "same")

    candidates = {"nnlib": nnlib_step,
                  "SciPy per channel": lambda: scipy_conv(x, layer.W.data, layer.b.data, dout)}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tw = torch.from_numpy(layer.W.data.copy()).requires_grad_(True)
        tb = torch.from_numpy(layer.b.data.copy()).requires_grad_(True)
        tdout = torch.from_numpy(dout)

        def torch_step():
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.conv2d(tx, tw, tb, padding=1).backward(tdout)

        candidates["PyTorch CPU"] = torch_step
    return candidates, naive_step


def conv_step_candidates(torch):
    """Conv2D 8->16 3x3 valid on (64, 8, 14, 14): forward, backward (dx, dW, db) and an
    SGD step with momentum, as one layer of a training step."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 8, 14, 14), dtype=np.float32)
    layer = nl.Conv2D(8, 16, 3, rng=0)
    opt = nl.SGD(layer.parameters(), lr=0.01, momentum=0.9)
    dout = rng.standard_normal((BATCH, 16, 12, 12), dtype=np.float32)

    def nnlib_step():
        layer.forward(x)
        opt.zero_grad()
        layer.backward(dout)
        opt.step()

    candidates = {"nnlib": nnlib_step}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tconv = torch.nn.Conv2d(8, 16, 3)
        with torch.no_grad():
            tconv.weight.copy_(torch.from_numpy(layer.W.data))
            tconv.bias.copy_(torch.from_numpy(layer.b.data))
        topt = torch.optim.SGD(tconv.parameters(), lr=0.01, momentum=0.9)
        tdout = torch.from_numpy(dout)

        def torch_step():
            tx.grad = None
            topt.zero_grad()
            tconv(tx).backward(tdout)
            topt.step()

        candidates["PyTorch CPU"] = torch_step
    return candidates


def pool_candidates(torch):
    x = np.random.default_rng(0).standard_normal((BATCH, 8, 28, 28), dtype=np.float32)
    layer = nl.MaxPool2D(2)
    dout = np.ones((BATCH, 8, 14, 14), np.float32)

    def nnlib_step():
        layer.forward(x)
        layer.backward(dout)

    def naive_step():
        nl.functional.maxpool_naive(x, 2, 2)

    candidates = {"nnlib": nnlib_step, "naive loops (forward only)": naive_step}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tdout = torch.from_numpy(dout)

        def torch_step():
            tx.grad = None
            torch.nn.functional.max_pool2d(tx, 2).backward(tdout)

        candidates["PyTorch CPU"] = torch_step
    return candidates


def small_cnn():
    return nl.Sequential(nl.Conv2D(1, 8, 3, padding="same", rng=0), nl.ReLU(), nl.MaxPool2D(2),
                         nl.Conv2D(8, 16, 3, padding="same", rng=1), nl.ReLU(), nl.MaxPool2D(2),
                         nl.Flatten(), nl.Dense(16 * 7 * 7, 10, rng=2))


def torch_small_cnn(torch):
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))


def cnn_step_candidates(torch):
    """One training step of the small CNN on a batch of 64: forward, loss, backward
    (no gradient of the input images), SGD step with momentum."""
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    model, loss = small_cnn(), nl.CrossEntropyLoss()
    opt = nl.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def nnlib_step():
        loss.forward(model.forward(x), y)
        opt.zero_grad()
        model.backward(loss.backward(), input_grad=False)
        opt.step()

    candidates = {"nnlib": nnlib_step}
    if torch is not None:
        tnet = torch_small_cnn(torch)
        topt = torch.optim.SGD(tnet.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()

        def torch_step():
            topt.zero_grad()
            loss_fn(tnet(tx), ty).backward()
            topt.step()

        candidates["PyTorch CPU"] = torch_step
    return candidates


def cnn_epoch_candidates(torch, n=4000):
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    model = small_cnn()
    opt = nl.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def nnlib_epoch():
        model.fit(x, y, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=64, seed=0,
                  verbose=False)

    candidates = {"nnlib": nnlib_epoch}
    if torch is not None:
        tnet = torch_small_cnn(torch)
        topt = torch.optim.SGD(tnet.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        loss_fn = torch.nn.CrossEntropyLoss()
        gen = torch.Generator().manual_seed(0)

        def torch_epoch():
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, 64):
                idx = order[start:start + 64]
                topt.zero_grad()
                loss_fn(tnet(tx[idx]), ty[idx]).backward()
                topt.step()

        candidates["PyTorch CPU"] = torch_epoch
    return candidates


def print_ratio(samples, target=None):
    against_torch(samples, args.threads, target=target, target_threads=1)


def main():
    torch = load_torch(args.threads)
    quick = args.quick
    repeats = 3 if quick else args.repeats
    for x_shape, filters in CONV_SHAPES:
        candidates, naive_step = conv_candidates(x_shape, filters, torch)
        slow = {"SciPy per channel": candidates.pop("SciPy per channel")}
        faults = {}
        samples = compare(candidates, 5 if quick else 50, repeats, faults)
        samples.update(compare(slow, 1, 1 if quick else 3))
        samples["naive loops (x32 from batch 2)"] = [time_block(naive_step, 1) * BATCH / 2]
        report(f"Conv2D {x_shape[1]}->{filters}, 3x3 same, input {x_shape}, forward + backward",
               samples, "nnlib", args.threads, faults)
        print_ratio(samples)
    faults = {}
    samples = compare(conv_step_candidates(torch), 5 if quick else 50, repeats, faults)
    report("Conv2D 8->16, 3x3 valid, input (64, 8, 14, 14), forward + backward + SGD step",
           samples, "nnlib", args.threads, faults)
    print_ratio(samples, target=1.1)
    faults = {}
    samples = compare(cnn_step_candidates(torch), 5 if quick else 30, repeats, faults)
    report("Small CNN (conv8-pool-conv16-pool-dense) training step, batch 64", samples,
           "nnlib", args.threads, faults)
    print_ratio(samples, target=0.85)
    faults = {}
    samples = compare(pool_candidates(torch), 5 if quick else 100, repeats, faults)
    report("MaxPool2D 2x2, (64, 8, 28, 28), forward + backward", samples, "nnlib", args.threads,
           faults)
    print_ratio(samples)
    samples = compare(cnn_epoch_candidates(torch, 640 if quick else 4000), 1,
                      repeats if not quick else 2)
    report("Small CNN (conv8-pool-conv16-pool-dense), one epoch of 4,000 images, batch 64",
           samples, "nnlib", args.threads)
    print_ratio(samples)
    if torch is None:
        print("\nPyTorch not installed: pip install torch to compare against it.")


if __name__ == "__main__":
    main()
