"""nnlib: the library of the course *Deep learning from first principles with NumPy and
SciPy*. Every object is importable from here::

    import nnlib as nl
    model = nl.Sequential(nl.Dense(2, 32), nl.ReLU(), nl.Dense(32, 3))
    history = model.fit(x, y, loss=nl.CrossEntropyLoss(), optimizer=nl.Adam(model.parameters()))

The core imports only NumPy and SciPy. ``nnlib.viz`` (matplotlib, ipywidgets) and the
progress bar (tqdm) come with the ``course`` extra and are imported only when used.
nnlib/README.md is the map of the package: which module holds what, and what each may
import.
"""

from . import data, functional, gradcheck, init, layers, losses, models, nodes, optim, utils
from ._validation import ShapeError
from .callbacks import Callback, EarlyStopping, History, LearningRateScheduler, ProgressBar
from .gradcheck import check_layer, numerical_gradient, rel_error
from .layers import (
    ELU,
    LSTM,
    RNN,
    Add,
    AvgPool2D,
    Concatenate,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    LastTimeStep,
    Layer,
    LeakyReLU,
    MaxPool2D,
    Merge,
    Multiply,
    Parameter,
    Pointwise,
    ReLU,
    Reshape,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .models import Container, LayerGroup, Model, Residual, Sequential
from .nodes import Input, Node
from .optim import SGD, Adam, Optimizer, RMSProp, clip_grad_norm

__version__ = "0.1.0"

__all__ = [
    "data", "functional", "gradcheck", "init", "layers", "losses", "models", "nodes", "optim",
    "utils",
    "ShapeError", "Parameter", "Layer", "LayerGroup", "Container",
    "Dense", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax", "Pointwise",
    "Flatten", "Reshape", "Dropout", "Residual", "Conv2D", "MaxPool2D", "AvgPool2D",
    "RNN", "LSTM", "LastTimeStep", "Merge", "Add", "Multiply", "Concatenate",
    "Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "Optimizer", "SGD", "RMSProp", "Adam", "clip_grad_norm",
    "Input", "Model", "Node", "Sequential",
    "Callback", "History", "EarlyStopping", "LearningRateScheduler", "ProgressBar",
    "numerical_gradient", "rel_error", "check_layer",
]
