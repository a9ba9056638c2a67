"""Every picture of the course: pure plotting functions (take Axes, return artists) and
ipywidgets views built on them. Needs the ``course`` extra (matplotlib, ipywidgets);
``import nnlib`` does not import this package.
"""

from .cnn import feature_map_explorer, layer_outputs, plot_feature_path
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
from .gradient_flow import (
    depth_gradient_norms,
    gradient_through_time_view,
    plot_depth_gradients,
    plot_time_gradients,
    residual_gradient_view,
    time_gradient_norms,
)
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
    "layer_outputs", "plot_feature_path", "feature_map_explorer",
    "depth_gradient_norms", "plot_depth_gradients", "time_gradient_norms",
    "plot_time_gradients", "residual_gradient_view", "gradient_through_time_view",
]
