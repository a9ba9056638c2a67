"""What autograd costs: one training step (forward + backward + SGD update) of a ReLU MLP
with softmax cross-entropy, float32, written three ways -- nnlib's hand-written layers
(`nl.Sequential`), the same network from `nnlib.autograd` operations, and PyTorch's
autograd (when installed) -- at three sizes, in one run with the same thread count; then
the cost of one recorded operation on scalars (a 2,000-step recurrence).

    python benchmarks/bench_autograd.py --threads 1
    python benchmarks/bench_autograd.py --threads 1 --quick

There is no target: `nnlib.autograd` is the reference that audits the layers, not the
fast path. The report shows what chapters/14_autograd.ipynb explains: its overhead is a
constant per operation (a Python object, a closure, a pending-gradient entry), large next
to a 16-row batch and small next to a 256 x 784 x 256 matrix product. All candidates
compute the loss and the parameter gradients, not the gradient of the input batch.
"""

from _timing import compare, load_torch, parse_threads, ratio, report

args = parse_threads(__doc__)

import numpy as np  # noqa: E402  (after the thread count is set)

import nnlib as nl  # noqa: E402
from nnlib.autograd import Tensor  # noqa: E402

LR = 0.01
# (inputs, hidden, classes, batch): the chapter's three sizes
SIZES = [(64, 32, 10, 16), (784, 128, 10, 64), (784, 256, 10, 256)]
STEPS = 2_000  # of the scalar recurrence h <- tanh(w h + 0.5)


def make_data(d_in, classes, batch):
    rng = np.random.default_rng(0)
    return rng.standard_normal((batch, d_in)).astype(np.float32), rng.integers(0, classes,
                                                                                batch)


def layers_step(d_in, hidden, classes, batch):
    net = nl.Sequential(nl.Dense(d_in, hidden, rng=0), nl.ReLU(),
                        nl.Dense(hidden, classes, rng=1))
    loss = nl.CrossEntropyLoss()
    opt = nl.SGD(net.parameters(), lr=LR)
    x, y = make_data(d_in, classes, batch)

    def step():
        net.zero_grad()
        loss.forward(net.forward(x), y)
        net.backward(loss.backward(), input_grad=False)
        opt.step()

    return step


def cross_entropy(z, y):
    """Softmax cross-entropy from autograd operations (the chapter's)."""
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    return -log_p[np.arange(len(y)), y].mean()


def autograd_step(d_in, hidden, classes, batch):
    net = nl.Sequential(nl.Dense(d_in, hidden, rng=0), nl.ReLU(),
                        nl.Dense(hidden, classes, rng=1))
    p = {k: Tensor(v.data.copy(), requires_grad=True) for k, v in net.parameters().items()}
    x, y = make_data(d_in, classes, batch)
    xt = Tensor(x)

    def step():
        for t in p.values():
            t.zero_grad()
        z = (xt @ p["0.W"] + p["0.b"]).relu() @ p["2.W"] + p["2.b"]
        cross_entropy(z, y).backward()
        for t in p.values():
            t.data -= LR * t.grad

    return step


def torch_step(torch, d_in, hidden, classes, batch):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(d_in, hidden), torch.nn.ReLU(),
                                torch.nn.Linear(hidden, classes))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = make_data(d_in, classes, batch)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(tx), ty).backward()
        opt.step()

    return step


def recurrence(make_leaf):
    """Forward and backward of h_T, h_t = tanh(w h_{t-1} + 0.5): 3 operations a step."""
    def run():
        w, h = make_leaf(0.9), make_leaf(0.5)
        for _ in range(STEPS):
            h = (h * w + 0.5).tanh()
        h.backward()
    return run


def main():
    torch = load_torch(args.threads)
    iterations = 10 if args.quick else 100
    repeats = 3 if args.quick else args.repeats
    summary = []
    for d_in, hidden, classes, batch in SIZES:
        shape = (d_in, hidden, classes, batch)
        candidates = {"nnlib layers": layers_step(*shape),
                      "nnlib.autograd": autograd_step(*shape)}
        if torch is not None:
            candidates[f"PyTorch {torch.__version__} autograd"] = torch_step(torch, *shape)
        samples = compare(candidates, iterations, repeats)
        report(f"MLP {d_in}-{hidden}-{classes} train step, batch {batch}, float32", samples,
               "nnlib layers", args.threads)
        summary.append((f"{d_in}-{hidden}-{classes}, batch {batch}",
                        ratio(samples, "nnlib.autograd", "nnlib layers")))

    candidates = {"nnlib.autograd": recurrence(lambda v: Tensor(v, requires_grad=True))}
    if torch is not None:
        candidates[f"PyTorch {torch.__version__} autograd"] = recurrence(
            lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    samples = compare(candidates, 1 if args.quick else 3, repeats)
    report(f"scalar recurrence, {STEPS:,} steps ({3 * STEPS:,} operations), forward + "
           f"backward", samples, "nnlib.autograd", args.threads)
    per_op = {name: min(v) / (3 * STEPS) * 1e6 for name, v in samples.items()}
    print("  per recorded operation (forward + backward): " +
          ", ".join(f"{name} {us:.1f} us" for name, us in per_op.items()))

    print("\n  nnlib.autograd / nnlib layers, one training step:")
    for label, value in summary:
        print(f"    {label:<28} {value:5.2f}x")
    if torch is None:
        print("  PyTorch not installed: pip install torch to compare against it.")


if __name__ == "__main__":
    main()
