"""Every picture of the course: pure plotting functions (take Axes, return artists) and
ipywidgets views built on them. Needs the ``course`` extra (matplotlib, ipywidgets);
``import nnlib`` does not import this package.
"""

from .curves import (
    ACTIVATIONS,
    SURFACES,
    depth_statistics,
    descend,
    plot_activation,
    plot_depth_statistics,
    plot_descent,
    plot_loss,
    plot_softmax,
)
from .dashboard import LiveDashboard, plot_history
from .graph import plot_model, plot_weight_images
from .images import (
    KERNELS,
    plot_backprop,
    plot_confusion_matrix,
    plot_convolution,
    plot_decision_boundary,
    plot_feature_maps,
    plot_filters,
    plot_misclassified,
    plot_pooling,
)
from .regularization import (
    plot_regularization,
    regularization_data,
    regularization_explorer,
    train_regularized,
)
from .style import COLORS, PALETTE, new_figure, show, to_png
from .widgets import (
    View,
    activation_explorer,
    backprop_explorer,
    convolution_explorer,
    decision_boundary_view,
    gd_playground,
    init_explorer,
    loss_explorer,
    pooling_explorer,
    softmax_explorer,
)

__all__ = [
    "ACTIVATIONS", "SURFACES", "KERNELS", "COLORS", "PALETTE", "new_figure", "to_png", "show",
    "plot_activation", "plot_loss", "plot_softmax", "descend", "plot_descent",
    "depth_statistics", "plot_depth_statistics", "plot_convolution", "plot_pooling",
    "plot_filters", "plot_feature_maps", "plot_confusion_matrix", "plot_misclassified",
    "plot_decision_boundary", "plot_backprop", "plot_history", "LiveDashboard", "View",
    "activation_explorer", "loss_explorer", "softmax_explorer", "gd_playground",
    "init_explorer", "convolution_explorer", "pooling_explorer", "backprop_explorer",
    "decision_boundary_view", "plot_model", "plot_weight_images",
    "regularization_data", "train_regularized", "plot_regularization", "regularization_explorer",
]
