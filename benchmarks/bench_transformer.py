"""A pre-norm transformer block, forward + backward: nnlib vs a plain hand-written NumPy
block vs PyTorch CPU (when installed), in one run with the same thread count.

    python benchmarks/bench_transformer.py --threads 1
    python benchmarks/bench_transformer.py --threads 2

The block (chapters/13_attention_transformers.ipynb): x + MHA(LN(x)), then
x + MLP(LN(x)) with a GELU (tanh form) MLP of width 4 D; causal self-attention; batch
32, 64 positions, D = 128, 4 heads, float32. PyTorch runs the same block as
``TransformerEncoderLayer(norm_first=True, dropout=0, batch_first=True)`` with the tanh
GELU and a causal mask. Every candidate computes the same gradients: dx and every
parameter's gradient (gradients are reset before each step).

Target (issue 21, with the CPU's own BLAS kernels, at one thread): nnlib within 1.5x of
PyTorch CPU.
"""

from _timing import against_torch, compare, load_torch, parse_threads, report

args = parse_threads(__doc__)

import numpy as np  # noqa: E402  (after the thread count is set)

import nnlib as nl  # noqa: E402

N, T, D, HEADS = 32, 64, 128, 4


def make_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D), dtype=np.float32)
    dout = rng.standard_normal((N, T, D), dtype=np.float32)
    return x, dout


def nnlib_step():
    block = nl.TransformerBlock(D, HEADS, causal=True, rng=0)
    x, dout = make_data()

    def step():
        block.forward(x)
        block.zero_grad()
        block.backward(dout)

    return step, block


def plain_numpy_step(block):
    """What a careful learner writes by hand from the chapter: no classes, no checks,
    the same weights as ``block``."""
    p = {k: v.data for k, v in block.parameters().items()}
    x, dout = make_data()
    c, a = np.float32(np.sqrt(2 / np.pi)), np.float32(0.044715)
    dh = D // HEADS
    mask = np.tri(T, dtype=bool)
    scale = np.float32(1 / np.sqrt(dh))

    def ln(v, g, b):
        mu = v.mean(-1, keepdims=True)
        var = v.var(-1, keepdims=True)
        inv = 1 / np.sqrt(var + np.float32(1e-5))
        xhat = (v - mu) * inv
        return xhat * g + b, xhat, inv

    def ln_back(dy, xhat, inv, g):
        gy = dy * g
        dv = inv * (gy - gy.mean(-1, keepdims=True) - xhat * (gy * xhat).mean(-1, keepdims=True))
        return dv, (dy * xhat).sum((0, 1)), dy.sum((0, 1))

    def heads(v):
        return v.reshape(N, T, HEADS, dh).transpose(0, 2, 1, 3)

    def step():
        h1, xh1, inv1 = ln(x, p["ln1.gamma"], p["ln1.beta"])
        q = heads(h1 @ p["attn.Wq"] + p["attn.bq"])
        k = heads(h1 @ p["attn.Wk"] + p["attn.bk"])
        v = heads(h1 @ p["attn.Wv"] + p["attn.bv"])
        s = np.where(mask, q @ k.transpose(0, 1, 3, 2) * scale, -np.inf)
        e = np.exp(s - s.max(-1, keepdims=True))
        A = e / e.sum(-1, keepdims=True)
        o = (A @ v).transpose(0, 2, 1, 3).reshape(N, T, D)
        x1 = x + o @ p["attn.Wo"] + p["attn.bo"]
        h2, xh2, inv2 = ln(x1, p["ln2.gamma"], p["ln2.beta"])
        z = h2 @ p["fc1.W"] + p["fc1.b"]
        t = np.tanh(c * (z + a * z ** 3))
        g = 0.5 * z * (1 + t)
        _ = x1 + g @ p["fc2.W"] + p["fc2.b"]
        # backward
        grads = {"fc2.W": g.reshape(-1, 4 * D).T @ dout.reshape(-1, D),
                 "fc2.b": dout.sum((0, 1))}
        dg = dout @ p["fc2.W"].T
        dz = dg * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * c * (1 + 3 * a * z * z))
        grads["fc1.W"] = h2.reshape(-1, D).T @ dz.reshape(-1, 4 * D)
        grads["fc1.b"] = dz.sum((0, 1))
        dh2, grads["ln2.gamma"], grads["ln2.beta"] = ln_back(dz @ p["fc1.W"].T, xh2, inv2,
                                                             p["ln2.gamma"])
        dx1 = dout + dh2
        grads["attn.Wo"] = o.reshape(-1, D).T @ dx1.reshape(-1, D)
        grads["attn.bo"] = dx1.sum((0, 1))
        do = heads(dx1 @ p["attn.Wo"].T)
        dv = A.transpose(0, 1, 3, 2) @ do
        dA = do @ v.transpose(0, 1, 3, 2)
        dS = A * (dA - (dA * A).sum(-1, keepdims=True)) * scale
        dq, dk = dS @ k, dS.transpose(0, 1, 3, 2) @ q
        dh1 = np.zeros_like(x)
        for name, dpart in (("q", dq), ("k", dk), ("v", dv)):
            dpart = dpart.transpose(0, 2, 1, 3).reshape(N, T, D)
            grads[f"attn.W{name}"] = h1.reshape(-1, D).T @ dpart.reshape(-1, D)
            grads[f"attn.b{name}"] = dpart.sum((0, 1))
            dh1 += dpart @ p[f"attn.W{name}"].T
        dx, grads["ln1.gamma"], grads["ln1.beta"] = ln_back(dh1, xh1, inv1, p["ln1.gamma"])
        return dx + dx1, grads

    return step


def torch_step(torch, block):
    layer = torch.nn.TransformerEncoderLayer(
        D, HEADS, 4 * D, dropout=0.0, batch_first=True, norm_first=True,
        activation=lambda v: torch.nn.functional.gelu(v, approximate="tanh"))
    p = {k: torch.from_numpy(v.data.copy()) for k, v in block.parameters().items()}
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([p["attn.Wq"].T, p["attn.Wk"].T,
                                                        p["attn.Wv"].T]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([p["attn.bq"], p["attn.bk"],
                                                      p["attn.bv"]]))
        layer.self_attn.out_proj.weight.copy_(p["attn.Wo"].T)
        layer.self_attn.out_proj.bias.copy_(p["attn.bo"])
        layer.linear1.weight.copy_(p["fc1.W"].T)
        layer.linear1.bias.copy_(p["fc1.b"])
        layer.linear2.weight.copy_(p["fc2.W"].T)
        layer.linear2.bias.copy_(p["fc2.b"])
    x, dout = make_data()
    tx = torch.from_numpy(x).requires_grad_()
    tdout = torch.from_numpy(dout)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(T)

    def step():
        layer.zero_grad(set_to_none=True)
        tx.grad = None
        layer(tx, src_mask=mask, is_causal=True).backward(tdout)

    def output():
        return layer(tx, src_mask=mask, is_causal=True).detach().numpy()

    return step, output


def main():
    step, block = nnlib_step()
    candidates = {"nnlib": step, "plain NumPy": plain_numpy_step(block)}
    torch = load_torch(args.threads)
    x, _ = make_data()
    if torch is not None:
        tstep, toutput = torch_step(torch, block)
        mismatch = np.abs(toutput() - block.forward(x)).max()
        if mismatch > 1e-3:
            raise SystemExit(f"PyTorch's block computes something else (max difference "
                             f"{mismatch:.3g}); the comparison would be meaningless.")
        candidates[f"PyTorch {torch.__version__} CPU"] = tstep
    iterations = 3 if args.quick else 20
    faults = {}
    samples = compare(candidates, iterations, 3 if args.quick else args.repeats, faults)
    report(f"Transformer block forward + backward, (N, T, D) = ({N}, {T}, {D}), {HEADS} heads, "
           f"causal, float32", samples, "plain NumPy", args.threads, faults)
    if torch is None:
        print("  PyTorch not installed: pip install torch to compare against it.")
    against_torch(samples, args.threads, target=1.5, target_threads=1)


if __name__ == "__main__":
    main()
