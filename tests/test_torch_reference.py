"""Optional reference tests against PyTorch autograd (skipped when torch is absent).
PyTorch is never a dependency of the course; these run where a developer installed it."""

import numpy as np
import pytest

import nnlib as nl

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def test_mlp_forward_backward_matches_autograd(rng):
    model = nl.Sequential(nl.Dense(5, 7, rng=0, dtype=np.float64), nl.Tanh(),
                          nl.Dense(7, 6, rng=1, dtype=np.float64), nl.ELU(0.8),
                          nl.Dense(6, 4, rng=2, dtype=np.float64), nl.LeakyReLU(0.1))
    x = rng.standard_normal((8, 5))
    y = rng.integers(0, 4, 8)
    loss_fn = nl.CrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x), y)
    model.zero_grad()
    dx = model.backward(loss_fn.backward())

    tx = t(x)
    params = {k: t(p.data) for k, p in model.parameters().items()}
    h = torch.tanh(tx @ params["0.W"] + params["0.b"])
    h = torch.nn.functional.elu(h @ params["2.W"] + params["2.b"], alpha=0.8)
    h = torch.nn.functional.leaky_relu(h @ params["4.W"] + params["4.b"], 0.1)
    tloss = torch.nn.functional.cross_entropy(h, torch.tensor(y))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    for k, p in model.parameters().items():
        np.testing.assert_allclose(p.grad, params[k].grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["mse", "bce", "bce_logits"])
def test_elementwise_losses_match_torch(name, rng):
    pred = rng.uniform(0.05, 0.95, (6, 3))
    target = rng.integers(0, 2, (6, 3)).astype(np.float64)
    ours, theirs = {
        "mse": (nl.MSELoss(), torch.nn.functional.mse_loss),
        "bce": (nl.BCELoss(), torch.nn.functional.binary_cross_entropy),
        "bce_logits": (nl.BCEWithLogitsLoss(),
                       torch.nn.functional.binary_cross_entropy_with_logits),
    }[name]
    value = ours.forward(pred, target)
    tp = t(pred)
    tl = theirs(tp, torch.tensor(target))
    tl.backward()
    assert value == pytest.approx(tl.item(), rel=1e-10)
    np.testing.assert_allclose(ours.backward(), tp.grad.numpy(), rtol=1e-8)


@pytest.mark.parametrize("make_ours, make_theirs", [
    (lambda p: nl.SGD(p, 0.1, momentum=0.9, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, 0.1, momentum=0.9, weight_decay=0.01)),
    (lambda p: nl.SGD(p, 0.1, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, 0.1, momentum=0.9, nesterov=True)),
    (lambda p: nl.RMSProp(p, 0.01, rho=0.9), lambda p: torch.optim.RMSprop(p, 0.01, alpha=0.9)),
    (lambda p: nl.Adam(p, 0.01, weight_decay=0.1),
     lambda p: torch.optim.Adam(p, 0.01, weight_decay=0.1)),
])
def test_optimizer_trajectories_match_torch(make_ours, make_theirs, rng):
    w0 = rng.standard_normal(5)
    grads = rng.standard_normal((6, 5))
    p = nl.Parameter(w0.copy())
    ours = make_ours({"w": p})
    tw = torch.tensor(w0.copy(), requires_grad=True)
    theirs = make_theirs([tw])
    for g in grads:
        p.grad[...] = g
        ours.step()
        tw.grad = torch.tensor(g)
        theirs.step()
    np.testing.assert_allclose(p.data, tw.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("stride, padding, torch_padding", [(1, "same", 1), (2, 1, 1),
                                                             (1, "valid", 0), (2, "valid", 0)])
def test_conv2d_matches_torch(stride, padding, torch_padding, rng):
    layer = nl.Conv2D(3, 4, 3, stride=stride, padding=padding, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 3, 7, 8))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    layer.zero_grad()
    dx = layer.backward(dout)
    tx, tw, tb = t(x), t(layer.W.data), t(layer.b.data)
    tout = torch.nn.functional.conv2d(tx, tw, tb, stride=stride, padding=torch_padding)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, tw.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind, size, stride", [("max", 2, 2), ("max", 3, 2), ("avg", 2, 2),
                                                ("avg", 3, 1)])
def test_pooling_matches_torch_including_ties(kind, size, stride, rng):
    x = np.round(rng.standard_normal((2, 3, 7, 7)), 1)      # rounding makes ties common
    layer = (nl.MaxPool2D if kind == "max" else nl.AvgPool2D)(size, stride)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    tx = t(x)
    fn = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    tout = fn(tx, size, stride)
    tout.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_rnn_and_lstm_match_torch(rng):
    x = rng.standard_normal((3, 5, 4))
    dout = rng.standard_normal((3, 5, 6))
    for ours, theirs in ((nl.RNN(4, 6, rng=0, dtype=np.float64),
                          torch.nn.RNN(4, 6, batch_first=True, nonlinearity="tanh")),
                         (nl.LSTM(4, 6, rng=0, dtype=np.float64),
                          torch.nn.LSTM(4, 6, batch_first=True))):
        theirs = theirs.double()
        with torch.no_grad():  # PyTorch stores W as (out, in): ours transposed
            theirs.weight_ih_l0.copy_(torch.tensor(ours.Wx.data.T))
            theirs.weight_hh_l0.copy_(torch.tensor(ours.Wh.data.T))
            theirs.bias_ih_l0.copy_(torch.tensor(ours.b.data))
            theirs.bias_hh_l0.zero_()
        out = ours.forward(x)
        ours.zero_grad()
        dx = ours.backward(dout)
        tx = t(x)
        tout, _ = theirs(tx)
        tout.backward(torch.tensor(dout))
        np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.Wx.grad, theirs.weight_ih_l0.grad.numpy().T, rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(ours.Wh.grad, theirs.weight_hh_l0.grad.numpy().T, rtol=1e-9,
                                   atol=1e-12)
