"""nnlib: the library of the course *Deep learning from first principles with NumPy and
SciPy*. Every object is importable from here::

    import nnlib as nl
    model = nl.Sequential(nl.Dense(2, 32), nl.ReLU(), nl.Dense(32, 3))
    history = model.fit(x, y, loss=nl.CrossEntropyLoss(), optimizer=nl.Adam(model.parameters()))

The core imports only NumPy and SciPy. ``nnlib.viz`` (matplotlib, ipywidgets) and the
progress bar (tqdm) come with the ``course`` extra and are imported only when used.
"""

from . import convolution, data, functional, gradcheck, init, losses, optim, pooling
from ._validation import ShapeError
from .callbacks import Callback, EarlyStopping, History, LearningRateScheduler, ProgressBar
from .conv import AvgPool2D, Conv2D, MaxPool2D
from .core import Layer, Parameter
from .gradcheck import check_layer, numerical_gradient, rel_error
from .graph import Input, Model, Node
from .layers import (
    ELU,
    Container,
    Dense,
    Dropout,
    Flatten,
    LeakyReLU,
    ReLU,
    Residual,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .merge import Add, Concatenate, Multiply, Pointwise, Reshape
from .model import Sequential
from .optim import SGD, Adam, Optimizer, RMSProp, clip_grad_norm
from .recurrent import LSTM, RNN, LastTimeStep

__version__ = "0.1.0"

__all__ = [
    "convolution", "data", "functional", "gradcheck", "init", "losses", "optim", "pooling",
    "ShapeError", "Parameter", "Layer", "Container",
    "Dense", "ReLU", "LeakyReLU", "ELU", "Sigmoid", "Tanh", "Softmax",
    "Flatten", "Dropout", "Residual", "Conv2D", "MaxPool2D", "AvgPool2D",
    "RNN", "LSTM", "LastTimeStep",
    "Loss", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "Optimizer", "SGD", "RMSProp", "Adam", "clip_grad_norm",
    "Input", "Model", "Node", "Add", "Multiply", "Concatenate", "Reshape", "Pointwise",
    "Sequential", "Callback", "History", "EarlyStopping", "LearningRateScheduler", "ProgressBar",
    "numerical_gradient", "rel_error", "check_layer",
]
