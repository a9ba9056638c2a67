"""One training step (forward + backward + SGD update) of a 784-256-128-10 ReLU MLP,
batch 128, float32: nnlib vs a plain hand-written NumPy step vs PyTorch CPU (when
installed), in one run with the same thread count.

    python benchmarks/bench_mlp.py --threads 1
    python benchmarks/bench_mlp.py --threads 2

Targets: nnlib within 1.15x of the plain NumPy step (issue 2); with the CPU's own BLAS
kernels, at most 0.7x PyTorch CPU at two threads (issue 13).
All three compute the same things: the loss value and the parameter gradients, no
gradient with respect to the input images.
"""

from _timing import against_torch, compare, load_torch, parse_threads, report

args = parse_threads(__doc__)

import numpy as np  # noqa: E402  (after the thread count is set)

import nnlib as nl  # noqa: E402

SIZES = (784, 256, 128, 10)
BATCH, LR = 128, 0.01


def make_data():
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return x, y


def nnlib_step():
    layers = []
    for i, (d_in, d_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True)):
        layers += [nl.Dense(d_in, d_out, init="he_normal", rng=i), nl.ReLU()]
    model = nl.Sequential(*layers[:-1])
    loss = nl.CrossEntropyLoss()
    opt = nl.SGD(model.parameters(), lr=LR)
    x, y = make_data()

    def step():
        loss.forward(model.forward(x), y)
        opt.zero_grad()
        model.backward(loss.backward(), input_grad=False)
        opt.step()

    return step


def plain_numpy_step():
    """What a careful learner writes by hand: no classes, no checks."""
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32)
          for a, b in zip(SIZES[:-1], SIZES[1:], strict=True)]
    bs = [np.zeros(b, np.float32) for b in SIZES[1:]]
    x, y = make_data()
    rows = np.arange(BATCH)

    def step():
        h1 = np.maximum(x @ Ws[0] + bs[0], 0)
        h2 = np.maximum(h1 @ Ws[1] + bs[1], 0)
        z = h2 @ Ws[2] + bs[2]
        shifted = z - z.max(axis=1, keepdims=True)
        p = np.exp(shifted)
        total = p.sum(axis=1, keepdims=True)
        p /= total
        loss = np.mean(np.log(total[:, 0]) - shifted[rows, y])  # computed, as the others do
        p[rows, y] -= 1
        dz = p / BATCH
        dh2 = (dz @ Ws[2].T) * (h2 > 0)
        dh1 = (dh2 @ Ws[1].T) * (h1 > 0)
        grads = [(x.T @ dh1, dh1.sum(0)), (h1.T @ dh2, dh2.sum(0)), (h2.T @ dz, dz.sum(0))]
        for W, b, (dW, db) in zip(Ws, bs, grads, strict=True):
            W -= LR * dW
            b -= LR * db
        return loss

    return step


def torch_step(torch):
    torch.manual_seed(0)
    layers = []
    for d_in, d_out in zip(SIZES[:-1], SIZES[1:], strict=True):
        layers += [torch.nn.Linear(d_in, d_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = make_data()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(tx), ty).backward()
        opt.step()

    return step


def main():
    candidates = {"nnlib": nnlib_step(), "plain NumPy": plain_numpy_step()}
    torch = load_torch(args.threads)
    if torch is not None:
        candidates[f"PyTorch {torch.__version__} CPU"] = torch_step(torch)
    iterations = 20 if args.quick else 200
    samples = compare(candidates, iterations, 3 if args.quick else args.repeats)
    report("MLP 784-256-128-10 train step, batch 128, float32", samples, "plain NumPy",
           args.threads)
    if torch is None:
        print("  PyTorch not installed: pip install torch to compare against it.")
    against_torch(samples, args.threads, target=0.7, target_threads=2)


if __name__ == "__main__":
    main()
