"""Optional reference tests of the normalisation, embedding and attention layers against
PyTorch (skipped when torch is absent; it is never a dependency of the course): outputs,
input gradients, parameter gradients and running statistics, in float64."""

import numpy as np
import pytest

import nnlib as nl

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)


def close(ours, theirs, rtol=1e-9, atol=1e-11):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def load_mha(layer, mha):
    """Our weights into PyTorch's nn.MultiheadAttention (it stores W^T)."""
    p = {k: torch.tensor(v.data) for k, v in layer.parameters().items()}
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([p["Wq"].T, p["Wk"].T, p["Wv"].T]))
        mha.in_proj_bias.copy_(torch.cat([p["bq"], p["bk"], p["bv"]]))
        mha.out_proj.weight.copy_(p["Wo"].T)
        mha.out_proj.bias.copy_(p["bo"])


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_equals_pytorchs(causal, rng):
    layer = nl.MultiHeadAttention(8, 2, causal=causal, rng=0, dtype=np.float64)
    for p in layer.parameters().values():
        p.data[...] = rng.standard_normal(p.shape) * 0.4
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    load_mha(layer, mha)
    x = rng.standard_normal((3, 5, 8))
    dout = rng.standard_normal((3, 5, 8))
    y = layer.forward(x)
    layer.zero_grad()
    dx = layer.backward(dout)
    tx = t(x)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64) \
        if causal else None
    ty, tw = mha(tx, tx, tx, attn_mask=mask, need_weights=True, average_attn_weights=False)
    ty.backward(torch.tensor(dout))
    close(y, ty)
    close(layer.attention, tw)
    close(dx, tx.grad)
    d = 8
    grad_in = mha.in_proj_weight.grad.numpy()
    for i, name in enumerate(("Wq", "Wk", "Wv")):
        close(getattr(layer, name).grad, grad_in[i * d:(i + 1) * d].T)
    bias_in = mha.in_proj_bias.grad.numpy()
    for i, name in enumerate(("bq", "bk", "bv")):
        close(getattr(layer, name).grad, bias_in[i * d:(i + 1) * d])
    close(layer.Wo.grad, mha.out_proj.weight.grad.numpy().T)
    close(layer.bo.grad, mha.out_proj.bias.grad)


@pytest.mark.parametrize("gelu", ["tanh", "none"])
def test_transformer_block_equals_pytorchs_pre_norm_encoder_layer(gelu, rng):
    block = nl.TransformerBlock(8, 4, mlp_ratio=2, causal=True, gelu=gelu, rng=0,
                                dtype=np.float64)
    for p in block.parameters().values():
        p.data[...] += rng.standard_normal(p.shape) * 0.1     # gammas and biases too
    ref = torch.nn.TransformerEncoderLayer(
        8, 4, 16, dropout=0.0, batch_first=True, norm_first=True, dtype=torch.float64,
        activation=lambda v: torch.nn.functional.gelu(v, approximate=gelu))
    load_mha(block.attn, ref.self_attn)
    with torch.no_grad():
        for ours, theirs in ((block.ln1, ref.norm1), (block.ln2, ref.norm2)):
            theirs.weight.copy_(torch.tensor(ours.gamma.data))
            theirs.bias.copy_(torch.tensor(ours.beta.data))
        for ours, theirs in ((block.fc1, ref.linear1), (block.fc2, ref.linear2)):
            theirs.weight.copy_(torch.tensor(ours.W.data.T))
            theirs.bias.copy_(torch.tensor(ours.b.data))
    x = rng.standard_normal((2, 6, 8))
    dout = rng.standard_normal((2, 6, 8))
    y = block.forward(x)
    block.zero_grad()
    dx = block.backward(dout)
    tx = t(x)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    ty = ref(tx, src_mask=mask, is_causal=True)
    ty.backward(torch.tensor(dout))
    close(y, ty)
    close(dx, tx.grad)
    close(block.fc1.W.grad, ref.linear1.weight.grad.numpy().T)
    close(block.fc2.b.grad, ref.linear2.bias.grad)
    close(block.ln1.gamma.grad, ref.norm1.weight.grad)
    close(block.ln2.beta.grad, ref.norm2.bias.grad)
    close(block.attn.Wo.grad, ref.self_attn.out_proj.weight.grad.numpy().T)


@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_batchnorm_equals_pytorchs_in_training_and_eval(kind, rng):
    shape = (6, 3) if kind == "1d" else (4, 3, 5, 2)
    ours = (nl.BatchNorm1D if kind == "1d" else nl.BatchNorm2D)(3, momentum=0.2,
                                                                dtype=np.float64)
    theirs = (torch.nn.BatchNorm1d if kind == "1d" else torch.nn.BatchNorm2d)(
        3, momentum=0.2, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.5, 2.0, -1.0], dtype=torch.float64))
        theirs.bias.copy_(torch.tensor([0.1, -0.3, 0.0], dtype=torch.float64))
    ours.gamma.data[...] = [0.5, 2.0, -1.0]
    ours.beta.data[...] = [0.1, -0.3, 0.0]
    for _ in range(3):                                     # three training steps
        x = rng.standard_normal(shape) * 2 + 1
        dout = rng.standard_normal(shape)
        ours.zero_grad()
        theirs.zero_grad()
        y = ours.forward(x)
        dx = ours.backward(dout)
        tx = t(x)
        ty = theirs(tx)
        ty.backward(torch.tensor(dout))
        close(y, ty)
        close(dx, tx.grad)
        close(ours.gamma.grad, theirs.weight.grad)
        close(ours.beta.grad, theirs.bias.grad)
        close(ours.running_mean, theirs.running_mean)
        close(ours.running_var, theirs.running_var)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape)
    dout = rng.standard_normal(shape)
    ours.zero_grad()
    theirs.zero_grad()
    y = ours.forward(x)
    dx = ours.backward(dout)
    tx = t(x)
    ty = theirs(tx)
    ty.backward(torch.tensor(dout))
    close(y, ty)
    close(dx, tx.grad)
    close(ours.gamma.grad, theirs.weight.grad)


def test_layernorm_equals_pytorchs(rng):
    ours = nl.LayerNorm((3, 4), eps=1e-3, dtype=np.float64)
    ours.gamma.data[...] = rng.standard_normal((3, 4))
    ours.beta.data[...] = rng.standard_normal((3, 4))
    theirs = torch.nn.LayerNorm((3, 4), eps=1e-3, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.gamma.data))
        theirs.bias.copy_(torch.tensor(ours.beta.data))
    x, dout = rng.standard_normal((2, 5, 3, 4)), rng.standard_normal((2, 5, 3, 4))
    y = ours.forward(x)
    dx = ours.backward(dout)
    tx = t(x)
    ty = theirs(tx)
    ty.backward(torch.tensor(dout))
    close(y, ty)
    close(dx, tx.grad)
    close(ours.gamma.grad, theirs.weight.grad)
    close(ours.beta.grad, theirs.bias.grad)


def test_embedding_and_gelu_equal_pytorchs(rng):
    ours = nl.Embedding(6, 4, rng=0, dtype=np.float64)
    theirs = torch.nn.Embedding(6, 4, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.W.data))
    idx = np.array([[0, 3, 3, 5], [3, 1, 0, 3]])           # repeats accumulate
    dout = rng.standard_normal((2, 4, 4))
    close(ours.forward(idx), theirs(torch.tensor(idx)))
    ours.backward(dout)
    theirs(torch.tensor(idx)).backward(torch.tensor(dout))
    close(ours.W.grad, theirs.weight.grad)
    for approximate in ("none", "tanh"):
        x = rng.standard_normal((3, 7)) * 3
        layer = nl.GELU(approximate=approximate)
        tx = t(x)
        ty = torch.nn.functional.gelu(tx, approximate=approximate)
        ty.backward(torch.tensor(dout[0, :3, :3].repeat(3, axis=1)[:, :7]))
        close(layer.forward(x), ty)
        close(layer.backward(dout[0, :3, :3].repeat(3, axis=1)[:, :7]), tx.grad)
