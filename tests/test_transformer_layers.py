"""Normalisation, embedding and attention: kernels against their naive twins and central
differences, the conventions of the contract (PyTorch's batch-norm statistics, contiguous
heads, the causal mask, accumulating embedding gradients), buffers saved and loaded,
sequence models trained with fit, and the errors bad input gets. The shared float64
gradient checks, dtype and no-mutation tests are the rows in tests/test_layers.py."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import nnlib as nl
from nnlib.functional import attention as A
from nnlib.functional import embedding as E
from nnlib.functional import normalization as N
from nnlib.gradcheck import numerical_gradient, rel_error

# ----------------------------------------------------------------------- normalisation


@pytest.mark.parametrize("shape", [(5, 3), (1, 4), (7, 1)])
def test_layer_norm_equals_its_loop_twin_and_standardises_rows(shape, rng):
    x = rng.standard_normal(shape) * 3 + 1
    gamma, beta = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    y, xhat, inv_std = N.layer_norm(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(y, N.layer_norm_naive(x, gamma, beta, 1e-5), atol=1e-12)
    if shape[1] > 1:
        np.testing.assert_allclose(xhat.mean(axis=1), 0, atol=1e-12)
        np.testing.assert_allclose(xhat.var(axis=1), 1 / (1 + 1e-5 * inv_std[:, 0] ** 2),
                                   rtol=1e-9)


def test_batch_norm_equals_its_loop_twin_and_standardises_columns(rng):
    x = rng.standard_normal((6, 4)) * 2 - 3
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    y, xhat, mean, var, inv_std = N.batch_norm(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(y, N.batch_norm_naive(x, gamma, beta, 1e-5), atol=1e-12)
    np.testing.assert_allclose(mean, x.mean(axis=0))
    np.testing.assert_allclose(var, x.var(axis=0))          # biased: divide by N
    np.testing.assert_allclose(xhat.mean(axis=0), 0, atol=1e-12)


def test_normalisation_backward_equals_the_full_jacobian(rng):
    # one formula for both layers; the naive twin builds the (m, m) Jacobian
    x, dout = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    _, xhat, inv_std = N.layer_norm(x, gamma, beta)
    dx, _, _ = N.layer_norm_backward(dout, xhat, inv_std, gamma)
    rows = [N.normalize_backward_naive(dout[i] * gamma, x[i]) for i in range(5)]
    np.testing.assert_allclose(dx, np.array(rows), atol=1e-12)
    _, xhat, _, _, inv_std = N.batch_norm(x, gamma, beta)
    dx, _, _ = N.batch_norm_backward(dout, xhat, inv_std, gamma)
    cols = [N.normalize_backward_naive(dout[:, j] * gamma[j], x[:, j]) for j in range(3)]
    np.testing.assert_allclose(dx, np.array(cols).T, atol=1e-12)


def test_normalisation_kernels_keep_float32_and_leave_inputs_alone(rng):
    x = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    g, b = np.ones(2, np.float32), np.zeros(2, np.float32)
    before = x.copy()
    y, xhat, mean, var, inv = N.batch_norm(x, g, b)
    dx, dg, db = N.batch_norm_backward(np.ones_like(y), xhat, inv, g)
    for a in (y, xhat, mean, var, inv, dx, dg, db):
        assert a.dtype == np.float32
    y, xhat, inv = N.layer_norm(x, np.ones((3, 3), np.float32), np.zeros((3, 3), np.float32))
    assert y.dtype == xhat.dtype == inv.dtype == np.float32
    np.testing.assert_array_equal(x, before)


def test_batchnorm_running_statistics_follow_pytorchs_conventions(rng):
    layer = nl.BatchNorm1D(3, momentum=0.3, dtype=np.float64)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.standard_normal((8, 3)) * [1, 2, 3] + [0, -1, 5]
        y = layer.forward(x)
        np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5))
        mean = 0.7 * mean + 0.3 * x.mean(axis=0)
        var = 0.7 * var + 0.3 * x.var(axis=0, ddof=1)     # unbiased in the running value
        np.testing.assert_allclose(layer.running_mean, mean)
        np.testing.assert_allclose(layer.running_var, var)
    layer.eval()
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(layer.forward(x), (x - mean) / np.sqrt(var + 1e-5))
    np.testing.assert_allclose(layer.running_mean, mean)   # eval reads, never updates


def test_batchnorm_eval_output_of_a_sample_does_not_depend_on_its_batch(rng):
    layer = nl.BatchNorm1D(4)
    layer.forward(rng.standard_normal((16, 4)).astype(np.float32))
    layer.eval()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(layer.forward(x)[:1], layer.forward(x[:1]), rtol=1e-6)
    layer.train()
    assert not np.allclose(layer.forward(x)[:1], layer.forward(x[:2])[:1])


def test_batchnorm2d_normalises_each_channel_over_batch_and_pixels(rng):
    layer = nl.BatchNorm2D(3, dtype=np.float64)
    x = rng.standard_normal((4, 3, 5, 2)) * np.array([1, 5, 0.1])[:, None, None] + 2
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)
    per_channel = x.transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * per_channel.var(axis=1, ddof=1))
    assert layer.num_channels == 3 and set(layer.buffers()) == {"running_mean", "running_var"}


def test_batchnorm_buffers_are_saved_loaded_and_never_stepped(tmp_path, rng):
    model = nl.Sequential(nl.Dense(3, 4, rng=0), nl.BatchNorm1D(4), nl.ReLU(),
                          nl.Dense(4, 2, rng=1))
    x = rng.standard_normal((32, 3)).astype(np.float32)
    model.fit(x, rng.integers(0, 2, 32), loss="cross_entropy",
              optimizer=nl.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=8,
              verbose=False)
    bn = model.layers[1]
    assert bn.running_mean.any() and not np.allclose(bn.running_var, 1)
    assert set(model.buffers()) == {"1.running_mean", "1.running_var"}
    model.save(tmp_path / "bn.npz")
    loaded = nl.Sequential.load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(loaded.layers[1].running_var, bn.running_var)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_layernorm_ignores_the_batch_and_normalises_every_position(rng):
    layer = nl.LayerNorm(6, dtype=np.float64)
    x = rng.standard_normal((3, 4, 6)) * 4 + 2
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(y[1:2], layer.forward(x[1:2]))
    layer.eval()
    np.testing.assert_allclose(layer.forward(x), y)        # no train/eval difference
    two = nl.LayerNorm((4, 6), dtype=np.float64).forward(x)
    np.testing.assert_allclose(two.reshape(3, -1).mean(axis=1), 0, atol=1e-12)


# ----------------------------------------------------------------------- attention


@pytest.mark.parametrize("masked", [False, True])
def test_attention_equals_its_loop_twin(masked, rng):
    q, k = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    v = rng.standard_normal((2, 5, 2))
    mask = rng.random((4, 5)) < 0.6 if masked else None
    if masked:
        mask[:, 0] = True                                    # every query sees a key
    out, w = A.scaled_dot_product_attention(q, k, v, mask)
    ref_out, ref_w = A.attention_naive(q, k, v, mask)
    np.testing.assert_allclose(out, ref_out, atol=1e-12)
    np.testing.assert_allclose(w, ref_w, atol=1e-12)
    np.testing.assert_allclose(w.sum(axis=-1), 1)
    if masked:
        assert np.all(w[:, ~mask] == 0)


def test_attention_backward_equals_central_differences(rng):
    q, k, v = (rng.standard_normal((2, 3, 4, 2)) for _ in range(3))
    dout = rng.standard_normal((2, 3, 4, 2))
    mask = A.causal_mask(4)
    out, w = A.scaled_dot_product_attention(q, k, v, mask)
    grads = A.scaled_dot_product_attention_backward(dout, q, k, v, w)
    for i, (arg, g) in enumerate(zip((q, k, v), grads, strict=True)):
        def f(_, i=i):
            args = [q, k, v]
            return A.scaled_dot_product_attention(*args, mask)[0]
        numeric = numerical_gradient(f, arg, dout)
        # against the gradient's scale: the query of position 0 sees one key, so its
        # gradient is exactly 0 and its neighbours' are tiny
        assert np.abs(g - numeric).max() < 1e-8 * np.abs(numeric).max(), "qkv"[i]
        assert np.all(g[:, :, 0] == 0) if i == 0 else True


def test_attention_scaling_keeps_score_variance_near_one(rng):
    # the variance argument of the chapter: q . k of unit-variance entries has variance d
    for d in (4, 64, 256):
        q, k = rng.standard_normal((2000, d)), rng.standard_normal((2000, d))
        raw = np.sum(q * k, axis=1)
        assert abs(raw.var() / d - 1) < 0.15
        assert abs((raw / np.sqrt(d)).var() - 1) < 0.15


def test_causal_mask_and_mask_errors():
    np.testing.assert_array_equal(A.causal_mask(3), np.tril(np.ones((3, 3), bool)))
    q = np.ones((1, 3, 2))
    with pytest.raises(TypeError, match="bool arrays"):
        A.scaled_dot_product_attention(q, q, q, np.tri(3))
    with pytest.raises(ValueError, match=r"does not broadcast to the scores' shape \(1, 3, 3\)"):
        A.scaled_dot_product_attention(q, q, q, np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="forbids every key"):
        A.scaled_dot_product_attention(q, q, q, np.zeros((3, 3), bool))


def test_heads_are_contiguous_blocks_of_features(rng):
    x = rng.standard_normal((2, 3, 8))
    heads = A.split_heads(x, 4)
    assert heads.shape == (2, 4, 3, 2)
    np.testing.assert_array_equal(heads[:, 1], x[:, :, 2:4])
    np.testing.assert_array_equal(A.merge_heads(heads), x)


def manual_mha(layer, x, causal):
    """Multi-head attention written head by head from the contract."""
    d, h = layer.embed_dim, layer.num_heads
    dh = d // h
    q = x @ layer.Wq.data + layer.bq.data
    k = x @ layer.Wk.data + layer.bk.data
    v = x @ layer.Wv.data + layer.bv.data
    t = x.shape[1]
    outs = []
    for i in range(h):
        block = slice(i * dh, (i + 1) * dh)
        s = q[:, :, block] @ k[:, :, block].transpose(0, 2, 1) / np.sqrt(dh)
        if causal:
            s = np.where(np.tril(np.ones((t, t), bool)), s, -np.inf)
        w = np.exp(s - s.max(-1, keepdims=True))
        w /= w.sum(-1, keepdims=True)
        outs.append(w @ v[:, :, block])
    return np.concatenate(outs, axis=-1) @ layer.Wo.data + layer.bo.data


@pytest.mark.parametrize("causal", [False, True])
def test_multi_head_attention_matches_the_contract(causal, rng):
    layer = nl.MultiHeadAttention(6, 3, causal=causal, rng=0, dtype=np.float64)
    for p in layer.parameters().values():
        p.data[...] = rng.standard_normal(p.shape) * 0.5    # biases too
    x = rng.standard_normal((2, 5, 6))
    np.testing.assert_allclose(layer.forward(x), manual_mha(layer, x, causal), atol=1e-12)
    assert layer.attention.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(layer.attention.sum(axis=-1), 1)


def test_causal_attention_never_looks_ahead(rng):
    block = nl.TransformerBlock(8, 2, causal=True, rng=0, dtype=np.float64)
    x = rng.standard_normal((1, 6, 8))
    y = block.forward(x)
    x2 = x.copy()
    x2[:, 4:] = rng.standard_normal((1, 2, 8))             # change the future only
    np.testing.assert_allclose(block.forward(x2)[:, :4], y[:, :4], atol=1e-12)
    assert np.all(np.triu(block.attn.attention[0, 0], k=1) == 0)
    dout = np.zeros_like(y)
    dout[:, 2] = 1                                         # gradient of position 2 only
    dx = block.backward(dout)
    assert np.all(dx[:, 3:] == 0) and np.abs(dx[:, :3]).sum() > 0


def test_transformer_block_is_the_pre_norm_composition(rng):
    block = nl.TransformerBlock(8, 2, mlp_ratio=3, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 4, 8))
    parts = block._parts()
    h = x + parts["attn"].forward(parts["ln1"].forward(x))
    mlp = parts["fc2"].forward(parts["act"].forward(parts["fc1"].forward(parts["ln2"].forward(h))))
    np.testing.assert_allclose(block.forward(x), h + mlp)
    assert block.fc1.W.shape == (8, 24)
    names = set(block.parameters())
    assert {"attn.Wq", "attn.bo", "ln1.gamma", "ln2.beta", "fc1.W", "fc2.b"} <= names
    assert len(names) == 16


def test_transformer_block_astype_train_eval_reach_its_parts():
    block = nl.TransformerBlock(4, 2, rng=0).astype(np.float64)
    assert block.dtype == np.float64
    assert all(p.dtype == np.float64 for p in block.parameters().values())
    assert block.attn.dtype == block.fc1.dtype == block.ln1.dtype == np.float64
    block.eval()
    assert not block.training and not block.attn.training and not block.fc2.training
    block.train()
    assert block.ln2.training


def test_a_shared_transformer_block_keeps_each_calls_cache(rng):
    block = nl.TransformerBlock(4, 2, rng=0, dtype=np.float64)
    a, b = nl.Input((3, 4)), nl.Input((3, 4))
    model = nl.Model(inputs=[a, b], outputs=nl.Add()([block(a), block(b)]))
    xa, xb = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    model.forward([xa, xb])
    dout = rng.standard_normal((2, 3, 4))
    model.zero_grad()
    model.backward(dout)
    separate = nl.TransformerBlock(4, 2, rng=0, dtype=np.float64)
    separate.forward(xa)
    separate.backward(dout)
    separate.forward(xb)
    separate.backward(dout)
    for key, p in block.parameters().items():
        np.testing.assert_allclose(p.grad, separate.parameters()[key].grad, atol=1e-12)


# ----------------------------------------------------------------------- GELU


def test_gelu_is_x_phi_and_the_tanh_form_is_within_1e3(rng):
    from scipy import special

    x = np.linspace(-6, 6, 241)
    exact = nl.functional.gelu(x)
    np.testing.assert_allclose(exact, x * 0.5 * (1 + special.erf(x / np.sqrt(2))), atol=1e-15)
    assert np.abs(nl.functional.gelu(x, "tanh") - exact).max() < 1e-3
    h = 1e-6
    for kind in ("none", "tanh"):   # elementwise: one central difference per point
        num = (nl.functional.gelu(x + h, kind) - nl.functional.gelu(x - h, kind)) / (2 * h)
        assert np.abs(nl.functional.gelu_grad(x, kind) - num).max() < 1e-9
    with pytest.raises(ValueError, match="'approximate' parameter of GELU must be one of"):
        nl.GELU(approximate="erf")


# ----------------------------------------------------------------------- embeddings


def test_embedding_looks_up_rows_and_accumulates_repeated_indices(rng):
    layer = nl.Embedding(5, 3, rng=0, dtype=np.float64)
    idx = np.array([[1, 4, 1], [0, 1, 4]])
    y = layer.forward(idx)
    assert y.shape == (2, 3, 3)
    np.testing.assert_array_equal(y[0, 1], layer.W.data[4])
    dout = rng.standard_normal(y.shape)
    assert layer.backward(dout) is None                    # indices have no gradient
    np.testing.assert_allclose(layer.W.grad[1], dout[0, 0] + dout[0, 2] + dout[1, 1])
    np.testing.assert_allclose(layer.W.grad[4], dout[0, 1] + dout[1, 2])
    assert not layer.W.grad[2].any() and not layer.W.grad[3].any()
    np.testing.assert_allclose(E.embedding_backward(dout, idx, 5),
                               E.embedding_backward_naive(dout, idx, 5))
    numeric = numerical_gradient(lambda W: layer.forward(idx), layer.W.data, dout)
    assert rel_error(layer.W.grad, numeric) < 1e-8


def test_embedding_float32_any_index_shape_and_nothing_mutated(rng):
    layer = nl.Embedding(7, 4, rng=0)
    idx = rng.integers(0, 7, (2, 3, 5))
    before = idx.copy()
    y = layer.forward(idx)
    assert y.shape == (2, 3, 5, 4) and y.dtype == np.float32
    dout = np.ones_like(y)
    layer.backward(dout)
    assert layer.W.grad.dtype == np.float32 and layer.W.grad.sum() == pytest.approx(dout.sum())
    np.testing.assert_array_equal(idx, before)
    assert layer.output_shape((3, 5)) == (3, 5, 4)


def test_embedding_errors_name_the_fix():
    layer = nl.Embedding(5, 2)
    with pytest.raises(TypeError, match=r"integer indices, got float32\. They are whole numbers"):
        layer.forward(np.array([[1.0, 2.0]], np.float32))
    with pytest.raises(ValueError, match=r"got index 5, but indices must be in \[0, 4\]"):
        layer.forward(np.array([[1, 5]]))
    with pytest.raises(ValueError, match=r"got index -1"):
        layer.forward(np.array([[-1, 2]]))
    with pytest.raises(TypeError, match="a NumPy array of integer indices, got list"):
        layer.forward([[1, 2]])
    with pytest.raises(nl.ShapeError, match=r"dout of shape \(1, 2, 2\)"):
        layer.forward(np.array([[1, 2]]))
        layer.backward(np.ones((1, 2, 3), np.float32))


def test_sinusoidal_positions_shift_by_a_rotation():
    P = E.sinusoidal_positions(50, 8, dtype=np.float64)
    assert P.shape == (50, 8) and np.all(np.abs(P) <= 1)
    np.testing.assert_allclose(P[0, 0::2], 0)
    np.testing.assert_allclose(P[0, 1::2], 1)
    # P[p + k] = R_k P[p] with R_k made of 2 x 2 rotations that depend on k only
    k = 3
    freq = 10000.0 ** (-np.arange(0, 8, 2) / 8)
    rotated = np.empty_like(P[:-k])
    c, s = np.cos(k * freq), np.sin(k * freq)
    rotated[:, 0::2] = P[:-k, 0::2] * c + P[:-k, 1::2] * s
    rotated[:, 1::2] = P[:-k, 1::2] * c - P[:-k, 0::2] * s
    np.testing.assert_allclose(rotated, P[k:], atol=1e-12)
    with pytest.raises(ValueError, match="even width"):
        E.sinusoidal_positions(4, 5)


def test_positional_embedding_kinds_and_errors(rng):
    learned = nl.PositionalEmbedding(6, 4, rng=0)
    fixed = nl.PositionalEmbedding(6, 4, kind="sinusoidal")
    assert set(learned.parameters()) == {"P"} and fixed.parameters() == {}
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(fixed.forward(x) - x, np.broadcast_to(
        E.sinusoidal_positions(5, 4), x.shape), atol=1e-6)
    with pytest.raises(nl.ShapeError, match=r"at most max_len = 6 positions"):
        learned.forward(rng.standard_normal((2, 7, 4)).astype(np.float32))
    assert fixed.astype(np.float64).P.dtype == np.float64


# ----------------------------------------------------------------------- models and fit


def tiny_sequence_model(v=6, t=5, d=16, causal=False):
    return nl.Sequential(nl.Embedding(v, d, rng=0), nl.PositionalEmbedding(t, d, rng=1),
                         nl.TransformerBlock(d, 2, causal=causal, rng=2), nl.LayerNorm(d),
                         nl.Dense(d, v, rng=3))


def test_fit_trains_a_sequence_model_on_integer_tokens(rng):
    x = rng.integers(0, 6, (256, 5))
    y = x[:, ::-1].copy()                                  # reverse the sequence
    model = tiny_sequence_model()
    before = model.evaluate(x, y, loss="cross_entropy")
    history = model.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(model.parameters(),
                        lr=0.01), epochs=8, batch_size=32, seed=0, verbose=False,
                        validation_data=(x[:64], y[:64]))
    after = model.evaluate(x, y, loss="cross_entropy")
    assert after["loss"] < 0.5 * before["loss"]
    assert history.history["accuracy"][-1] > before["accuracy"] + 0.3
    assert model.predict(x[:3]).shape == (3, 5, 6)


def test_fit_predict_evaluate_validate_but_keep_token_ids_integers(rng, monkeypatch):
    """fit / predict / evaluate check their data (nnlib.training: numeric, finite, real,
    the per-sample shape through one sample) and convert inputs to the model's dtype --
    except the input of a model whose first layer is an Embedding: its token ids reach the
    layer as the integers they are, never refused and never cast to float."""
    seen = []
    forward = nl.Embedding.forward
    monkeypatch.setattr(nl.Embedding, "forward",
                        lambda self, idx: seen.append(idx.dtype) or forward(self, idx))
    model = tiny_sequence_model()
    assert model._index_inputs() == [True]
    for dtype in (np.int64, np.int32, np.uint8):
        x = rng.integers(0, 6, (16, 5)).astype(dtype)
        y = rng.integers(0, 6, (16, 5))
        model.fit(x, y, loss="cross_entropy", optimizer=nl.SGD(model.parameters(), lr=0.01),
                  epochs=1, batch_size=8, verbose=False, validation_data=(x[:4], y[:4]))
        assert model.predict(x).shape == (16, 5, 6)
        assert set(model.evaluate(x, y, loss="cross_entropy")) >= {"loss", "accuracy"}
        assert seen and set(seen) == {np.dtype(dtype)}, seen
        seen.clear()
    # nested Python lists of ints are integer ids too
    assert model.predict([[0, 1, 2, 3, 4]]).shape == (1, 5, 6)
    assert seen == [np.dtype(np.int64)]
    # main's validation still applies to them: ids out of the table, floats, NaN
    with pytest.raises(ValueError, match=r"got index 9, but indices must be in \[0, 5\]"):
        model.predict(np.full((2, 5), 9))
    with pytest.raises(TypeError, match=r"Embedding expected integer indices, got float"):
        model.predict(np.full((2, 5), 1.5))
    with pytest.raises(ValueError, match=r"NaN|finite"):
        model.predict(np.full((2, 5), np.nan))


def test_a_model_without_an_embedding_still_casts_integer_inputs(rng):
    model = nl.Sequential(nl.Dense(3, 2, rng=0))
    assert model._index_inputs() == [False]
    out = model.predict(rng.integers(0, 5, (4, 3)))
    assert out.dtype == np.float32


def test_a_graph_model_keeps_integer_inputs_for_its_embedding(rng):
    tokens, extra = nl.Input((4,)), nl.Input((4, 8))
    h = nl.Add()([nl.Embedding(5, 8, rng=0)(tokens), extra])
    model = nl.Model(inputs=[tokens, extra], outputs=nl.Dense(8, 5, rng=1)(
        nl.MultiHeadAttention(8, 2, rng=2)(h)))
    assert model._index_inputs() == [True, False]
    out = model.predict([rng.integers(0, 5, (3, 4)), rng.standard_normal((3, 4, 8))])
    assert out.shape == (3, 4, 5) and out.dtype == np.float32


def test_a_transformer_model_saves_and_loads(tmp_path, rng):
    model = tiny_sequence_model(causal=True)
    x = rng.integers(0, 6, (4, 5))
    model.save(tmp_path / "lm.npz")
    loaded = nl.Sequential.load(tmp_path / "lm.npz")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[2].causal and repr(loaded) == repr(model)
    config = json.loads(json.dumps(model.layers[2].get_config()))
    assert nl.TransformerBlock.from_config(config).get_config() == config


def test_cross_entropy_on_sequences_is_the_mean_over_positions(rng):
    z = rng.standard_normal((3, 4, 5))
    y = rng.integers(0, 5, (3, 4))
    loss = nl.CrossEntropyLoss()
    value = loss.forward(z, y)
    flat = nl.CrossEntropyLoss()
    assert value == pytest.approx(flat.forward(z.reshape(12, 5), y.reshape(12)))
    np.testing.assert_allclose(loss.backward(), flat.backward().reshape(3, 4, 5))
    assert loss.accuracy(z, y) == pytest.approx(np.mean(z.argmax(-1) == y))
    onehot = np.eye(5)[y]
    assert nl.CrossEntropyLoss().forward(z, onehot) == pytest.approx(value)
    with pytest.raises(nl.ShapeError, match=r"integer labels of shape \(3, 4\)"):
        loss.forward(z, y[:, :3])


def test_dense_on_sequences_is_the_same_map_at_every_position(rng):
    layer = nl.Dense(4, 3, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 5, 4))
    y = layer.forward(x)
    np.testing.assert_allclose(y[:, 2], layer.forward(x[:, 2]))
    assert layer.output_shape((5, 4)) == (5, 3)
    with pytest.raises(nl.ShapeError, match=r"got \(2, 28, 28\).*Flatten"):
        nl.Dense(784, 10).forward(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(nl.ShapeError, match=r"\(N, 4\) or \(N, T, 4\), got \(2, 5, 3\)"):
        layer.forward(np.zeros((2, 5, 3)))


# ----------------------------------------------------------------------- errors


@pytest.mark.parametrize("make, x, pattern", [
    (lambda: nl.BatchNorm1D(3), np.zeros((4, 5), np.float32),
     r"BatchNorm1D expected input \(N, 3\), got \(4, 5\)\. Use BatchNorm1D\(5\)"),
    (lambda: nl.BatchNorm1D(3), np.zeros((4, 3, 2, 2), np.float32),
     r"For this input use nl\.BatchNorm2D\(3\)"),
    (lambda: nl.BatchNorm2D(3), np.zeros((4, 3), np.float32),
     r"BatchNorm2D expected input \(N, 3, H, W\), got \(4, 3\)\. For this input use "
     r"nl\.BatchNorm1D\(3\)"),
    (lambda: nl.BatchNorm1D(3), np.zeros((1, 3), np.float32),
     r"more than one value per feature in training mode.*\.eval\(\)"),
    (lambda: nl.BatchNorm1D(3), np.zeros((4, 3)),
     r"expected input of dtype float32, got float64"),
    (lambda: nl.LayerNorm(4), np.zeros((2, 3), np.float32),
     r"LayerNorm expected input \(N, \.\.\., 4\), got \(2, 3\)\. Use LayerNorm\(3\)"),
    (lambda: nl.LayerNorm(4), np.zeros(4, np.float32), r"a single sample needs x\[None\]"),
    (lambda: nl.MultiHeadAttention(8, 2), np.zeros((2, 8), np.float32),
     r"expected input \(N, T, 8\), got \(2, 8\)\. One sequence\? x\[None\]"),
    (lambda: nl.MultiHeadAttention(8, 2), np.zeros((2, 3, 6), np.float32),
     r"embed_dim is 8\. Build the layer with embed_dim=6"),
    (lambda: nl.TransformerBlock(8, 2), np.zeros((2, 3, 6), np.float32),
     r"TransformerBlock expected input \(N, T, 8\), got \(2, 3, 6\)"),
    (lambda: nl.TransformerBlock(8, 2), np.zeros((2, 3), np.int64),
     r"Token ids\? Embed them first with nl\.Embedding"),
])
def test_bad_input_gets_a_message_with_the_fix(make, x, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        make().forward(x)


def test_bad_hyperparameters_are_rejected():
    with pytest.raises(ValueError, match="10 is not divisible by 3"):
        nl.MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match=r"'momentum' parameter of BatchNorm1D must be a float "
                                         r"in \[0, 1\]"):
        nl.BatchNorm1D(3, momentum=1.5)
    with pytest.raises(ValueError, match="'causal' parameter of MultiHeadAttention must be"):
        nl.MultiHeadAttention(4, 2, causal="yes")
    with pytest.raises(TypeError, match="unexpected keyword argument 'heads'"):
        nl.TransformerBlock(8, heads=2)
    with pytest.raises(ValueError, match="'gelu' parameter of TransformerBlock must be one of"):
        nl.TransformerBlock(8, 2, gelu="exact")
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        nl.MultiHeadAttention(4, 2).backward(np.zeros((1, 2, 4), np.float32))


def test_the_benchmarks_plain_numpy_block_computes_what_nnlib_does(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    # as if already in the benchmark's process, so parse_threads neither re-runs it nor
    # reads pytest's arguments
    monkeypatch.setattr(sys, "argv", ["bench_transformer.py", "--malloc", "steady"])
    monkeypatch.setenv("NNLIB_BENCH_MALLOC", "steady")
    import bench_transformer as bench

    step, block = bench.nnlib_step()
    x, dout = bench.make_data()
    block.forward(x)
    block.zero_grad()
    dx = block.backward(dout)
    plain_dx, grads = bench.plain_numpy_step(block)()
    np.testing.assert_allclose(plain_dx, dx, atol=1e-4)
    assert set(grads) == set(block.parameters())
    for key, g in grads.items():
        if key != "attn.bk":                               # zero by the math: rounding
            scale = np.abs(g).max()
            assert np.abs(block.parameters()[key].grad - g).max() < 1e-4 * scale, key
