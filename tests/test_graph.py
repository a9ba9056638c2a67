"""Graph models: float64 gradient checks of multi-input, multi-output, shared-weight and
residual-merge graphs against central differences; Sequential == Model on a chain;
save/load; every error path; the block-letter OCR example."""

import numpy as np
import pytest

import nnlib as nl
from nnlib.gradcheck import numerical_gradient, rel_error

F64 = {"dtype": np.float64}


def graph_gradcheck(model, xs, rng):
    """Worst relative error of the model's input and parameter gradients."""
    outs = model.forward(xs if len(xs) > 1 else xs[0])
    outs = outs if isinstance(outs, list) else [outs]
    douts = [rng.standard_normal(o.shape) for o in outs]

    def total(_):
        o = model.forward(xs if len(xs) > 1 else xs[0])
        o = o if isinstance(o, list) else [o]
        return sum(float(np.sum(a * d)) for a, d in zip(o, douts, strict=True))

    model.zero_grad()
    model.forward(xs if len(xs) > 1 else xs[0])
    grads = model.backward(douts if len(douts) > 1 else douts[0])
    grads = grads if isinstance(grads, list) else [grads]
    errors = {f"x{i}": rel_error(g, numerical_gradient(total, x))
              for i, (g, x) in enumerate(zip(grads, xs, strict=True))}
    analytic = {k: p.grad.copy() for k, p in model.parameters().items()}
    for k, p in model.parameters().items():
        errors[k] = rel_error(analytic[k], numerical_gradient(total, p.data))
    return errors


def two_input_two_output(rng_seed=0):
    a, b = nl.Input((3,)), nl.Input((2,))
    shared = nl.Dense(4, 4, rng=rng_seed + 1, **F64)
    h1 = nl.Tanh()(nl.Dense(3, 4, rng=rng_seed, **F64)(a))
    h2 = nl.Dense(2, 4, rng=rng_seed + 2, **F64)(b)
    s1, s2 = shared(h1), shared(h2)                              # one layer, two nodes
    merged = nl.Multiply()([nl.Add()([s1, s2]), h1])            # h1 fans out twice
    joined = nl.Concatenate()([merged, h2])
    out1 = nl.Dense(8, 2, rng=rng_seed + 3, **F64)(joined)
    out2 = nl.Pointwise(np.sin, np.cos)(nl.Reshape((2, 2))(s2))
    return nl.Model(inputs=[a, b], outputs=[out1, out2]), shared


def test_multi_input_multi_output_shared_graph_gradients(rng):
    model, shared = two_input_two_output()
    xs = [rng.standard_normal((5, 3)), rng.standard_normal((5, 2))]
    errors = graph_gradcheck(model, xs, rng)
    assert max(errors.values()) < 1e-6, errors
    # the shared layer is listed once and its gradient sums both uses
    assert sum(p is shared.W for p in model.parameters().values()) == 1
    assert "(shared)" in model.summary()


def test_residual_merge_graph_gradients(rng):
    x = nl.Input((4,))
    h = nl.Dense(4, 4, rng=0, **F64)(x)
    h = nl.ReLU()(h)
    h = nl.Dense(4, 4, rng=1, **F64)(h)
    y = nl.Add()([x, h])                                        # x + f(x)
    model = nl.Model(inputs=x, outputs=y)
    xv = rng.standard_normal((6, 4))
    xv[np.abs(xv) < 1e-3] += 0.01
    errors = graph_gradcheck(model, [xv], rng)
    assert max(errors.values()) < 1e-6, errors
    np.testing.assert_allclose(model.forward(xv), nl.Residual(*[n.layer for n in model.nodes[1:4]]
                                                              ).forward(xv))


def test_conv_layer_shared_at_two_nodes_keeps_separate_caches(rng):
    a, b = nl.Input((1, 5, 5)), nl.Input((1, 5, 5))
    conv = nl.Conv2D(1, 2, 3, padding="same", rng=0, **F64)
    y = nl.Add()([conv(a), conv(b)])
    model = nl.Model(inputs=[a, b], outputs=y)
    xs = [rng.standard_normal((2, 1, 5, 5)), rng.standard_normal((2, 1, 5, 5))]
    errors = graph_gradcheck(model, xs, rng)
    assert max(errors.values()) < 1e-6, errors


def chain_layers(seed):
    return [nl.Dense(2, 16, init="he_normal", rng=seed), nl.ReLU(), nl.Dropout(0.1, rng=seed),
            nl.Dense(16, 3, rng=seed + 1)]


def test_sequential_is_a_special_case_of_model():
    x, y = nl.data.spirals(40, 3, rng=0)
    seq = nl.Sequential(*chain_layers(5))
    inp = nl.Input((2,))
    node = inp
    for layer in chain_layers(5):
        node = layer(node)
    graph = nl.Model(inputs=[inp], outputs=[node])
    assert list(graph.parameters()) == list(seq.parameters())
    np.testing.assert_array_equal(graph.predict(x), seq.predict(x))
    histories = [m.fit(x, y, loss="cross_entropy", optimizer=nl.Adam(m.parameters(), lr=0.01),
                       epochs=3, batch_size=16, seed=1, verbose=False) for m in (seq, graph)]
    assert histories[0].history == histories[1].history
    np.testing.assert_array_equal(graph.predict(x), seq.predict(x))


def test_two_heads_with_loss_weights():
    x, y = nl.data.spirals(30, 3, rng=0)
    inp = nl.Input((2,))
    h = nl.Tanh()(nl.Dense(2, 8, rng=0)(inp))
    head_a, head_b = nl.Dense(8, 3, rng=1), nl.Dense(8, 1, rng=2)
    model = nl.Model(inputs=inp, outputs=[head_a(h), head_b(h)])
    radius = np.linalg.norm(x, axis=1, keepdims=True).astype(np.float32)
    before = head_b.W.data.copy()
    history = model.fit(x, [y, radius], loss=["cross_entropy", "mse"], loss_weights=[1.0, 0.0],
                        optimizer=nl.SGD(model.parameters(), lr=0.1), epochs=2, verbose=False)
    assert set(history.keys()) == {"loss", "out0_loss", "out0_accuracy", "out1_loss"}
    np.testing.assert_array_equal(head_b.W.data, before)        # weight 0: that head is frozen
    scores = model.evaluate(x, [y, radius], loss=["cross_entropy", "mse"])
    assert scores["loss"] == pytest.approx(scores["out0_loss"] + scores["out1_loss"])
    preds = model.predict(x)
    assert isinstance(preds, list) and preds[0].shape == (90, 3) and preds[1].shape == (90, 1)


def test_save_load_round_trip_of_a_graph(tmp_path, rng):
    a, b = nl.Input((3,)), nl.Input((2,))
    shared = nl.Dense(4, 4, rng=1)
    h1, h2 = shared(nl.Dense(3, 4, rng=0)(a)), shared(nl.Dense(2, 4, rng=2)(b))
    out = nl.Dense(8, 2, rng=3)(nl.Concatenate()([nl.Multiply()([h1, h2]), h2]))
    model = nl.Model(inputs=[a, b], outputs=[out, nl.Reshape((2, 2))(h1)])
    model.save(tmp_path / "graph.npz")
    loaded = nl.Model.load(tmp_path / "graph.npz")
    xs = [rng.standard_normal((4, 3)).astype(np.float32),
          rng.standard_normal((4, 2)).astype(np.float32)]
    for got, want in zip(loaded.predict(xs), model.predict(xs), strict=True):
        np.testing.assert_array_equal(got, want)
    assert loaded.edges() == model.edges()
    assert len(loaded.layers) == len(model.layers)              # the shared layer stays shared
    with pytest.raises(TypeError, match="holds a Model, not a Sequential"):
        nl.Sequential.load(tmp_path / "graph.npz")


def test_wiring_errors_name_the_layers():
    x = nl.Input((5,))
    with pytest.raises(ValueError, match=r"cannot connect Dense\(3, 4\).*expected per-sample "
                                         r"input \(3,\), got \(5,\)"):
        nl.Dense(3, 4)(x)
    a, b = nl.Dense(5, 4)(x), nl.Dense(5, 3)(x)
    with pytest.raises(ValueError, match=r"Add needs inputs of one shape, got \(4,\), \(3,\)"):
        nl.Add()([a, b])
    with pytest.raises(TypeError, match=r"Add\(\) takes a list of nodes"):
        nl.Add()(a)
    with pytest.raises(ValueError, match="cannot be 0, the batch axis"):
        nl.Concatenate(axis=0)


def test_disconnected_and_cyclic_graphs_are_rejected():
    a, b = nl.Input((2,)), nl.Input((2,))
    out = nl.Add()([nl.Dense(2, 2)(a), nl.Dense(2, 2)(b)])
    with pytest.raises(ValueError, match=r"depend on an Input \(2,\) that is not in "
                                         r"Model\(inputs=...\): it feeds Dense\(2, 2\)"):
        nl.Model(inputs=[a], outputs=[out])
    unused = nl.Input((7,))
    with pytest.raises(ValueError, match=r"Model input 2 \(\(7,\)\) is not connected"):
        nl.Model(inputs=[a, b, unused], outputs=[out])
    h = nl.Dense(2, 2)(a)
    loop = nl.Tanh()(h)
    h.parents = [loop]                       # only possible by tampering: still caught
    with pytest.raises(ValueError, match=r"cycle: Tanh\(\) -> Dense\(2, 2\) -> Tanh\(\)"):
        nl.Model(inputs=[a], outputs=[loop])


def test_pointwise_checks_its_derivative_on_first_use():
    layer = nl.Pointwise(np.tanh, lambda x: 1 - x ** 2, name="tanh")   # wrong: should be tanh
    with pytest.raises(ValueError, match=r"Pointwise\(tanh\): df does not look like the "
                                         r"derivative of f"):
        layer.forward(np.linspace(-2, 2, 9)[None])
    good = nl.Pointwise(np.tanh, lambda x: 1 - np.tanh(x) ** 2)
    x = np.linspace(-2, 2, 9)[None]
    np.testing.assert_allclose(good.forward(x), np.tanh(x))
    inp = nl.Input((9,))
    with pytest.raises(TypeError, match="holds Python functions"):
        nl.Model(inputs=inp, outputs=good(inp)).save("unused.npz")


def test_fit_and_forward_argument_errors():
    model, _ = two_input_two_output()
    x = [np.zeros((4, 3)), np.zeros((4, 2))]
    with pytest.raises(ValueError, match="Model has 2 inputs but got 1 arrays of inputs"):
        model.fit(x[0], [np.zeros((4, 2)), np.zeros((4, 2, 2))], loss="mse",
                  optimizer=nl.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="2 outputs but got 3 losses"):
        model.fit(x, [np.zeros((4, 2)), np.zeros((4, 2, 2))], loss=["mse"] * 3,
                  optimizer=nl.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"expected per-sample shape \(2,\), got \(3,\)"):
        model.forward([np.zeros((4, 3)), np.zeros((4, 3))])


def test_model_picture_and_summary_edges():
    from nnlib import viz

    model, _ = two_input_two_output()
    fig, ax = viz.new_figure(width=10, height=4)
    boxes = [a for a in viz.plot_model(ax, model) if a.get_bbox_patch() is not None]
    assert len(boxes) == len(model.nodes)
    summary = model.summary()
    assert "from" in summary and "total parameters" in summary
    assert len(model.edges()) == sum(len(n.parents) for n in model.nodes)


@pytest.mark.slow
def test_block_letter_ocr_reaches_100_percent_clean_and_95_augmented():
    x, y = nl.data.load_letters(150, rng=0, flatten=True)
    x_val, y_val = nl.data.load_letters(30, rng=1, flatten=True)
    x_clean, y_clean = nl.data.load_letters(augment=False, flatten=True)
    inp = nl.Input((32 * 32,))
    h = nl.Tanh()(nl.Dense(32 * 32, 15 * 15, rng=0)(inp))
    h = nl.Tanh()(nl.Dense(15 * 15, 15 * 15, rng=1)(h))
    out = nl.Sigmoid()(nl.Dense(15 * 15, 26, rng=2)(h))
    model = nl.Model(inputs=[inp], outputs=[out])
    model.fit(x, nl.data.one_hot(y, 26), loss="bce", optimizer=nl.Adam(model.parameters()),
              epochs=12, batch_size=32, seed=0, verbose=False)
    assert np.mean(model.predict(x_clean).argmax(axis=1) == y_clean) == 1.0
    assert np.mean(model.predict(x_val).argmax(axis=1) == y_val) >= 0.95
    from nnlib import viz

    fig, _ = viz.new_figure(width=8)
    fig.clear()
    first = model.layers[0]
    assert len(viz.plot_weight_images(fig, first.W.data, (32, 32), n=16)) == 16
