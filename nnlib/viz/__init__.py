"""Every picture of the course: pure plotting functions (take Axes, return artists) and
ipywidgets views built on them. Needs the ``course`` extra (matplotlib, ipywidgets);
``import nnlib`` does not import this package.
"""

from .arrays import (
    broadcast_alignment,
    broadcast_explorer,
    parse_shape,
    plot_broadcast,
    plot_timings,
)
from .attention import attention_explorer, attention_layers, attention_maps, plot_attention
from .autograd_views import (
    EXPRESSIONS,
    autograd_explorer,
    backward_steps,
    expression_graph,
    plot_expression_graph,
)
from .backprop_views import (
    STEP_FUNCTIONS,
    backprop_explorer,
    backprop_values,
    difference_errors,
    plot_backprop_network,
    plot_graph,
    plot_step_errors,
    small_network,
    step_size_explorer,
)
from .cnn import feature_map_explorer, layer_outputs, plot_feature_path
from .conv_views import (
    KERNEL_PRESETS,
    convolution_explorer,
    make_kernel,
    plot_conv_layer,
    plot_sliding_window,
    sliding_window_explorer,
)
from .curves import (
    ACTIVATIONS,
    SURFACES,
    depth_statistics,
    descend,
    plot_activation,
    plot_depth_statistics,
    plot_descent,
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
    plot_confusion_matrix,
    plot_convolution,
    plot_decision_boundary,
    plot_feature_maps,
    plot_filters,
    plot_misclassified,
    plot_pooling,
)
from .loss_views import (
    BINARY_LOSSES,
    binary_losses,
    loss_explorer,
    plot_binary_losses,
    plot_gradient_magnitudes,
    plot_runs,
)
from .neurons import (
    INITS,
    init_grid,
    layer_profile,
    neuron_explorer,
    plot_init_grid,
    plot_layer_profile,
    plot_neuron,
)
from .ocr import (
    EXAMPLES,
    FIELDS,
    GRID,
    DrawingPad,
    drawing_pad_view,
    field_probabilities,
    find_mistakes,
    mistake_explorer,
    plot_reading,
    plot_worst_mistakes,
    read_image,
    strokes_to_grid,
    thicken,
)
from .regularization import (
    plot_regularization,
    regularization_data,
    regularization_explorer,
    train_regularized,
)
from .style import COLORS, PALETTE, new_figure, show, to_png
from .view import View
from .widgets import (
    activation_explorer,
    decision_boundary_view,
    gd_playground,
    init_explorer,
    pooling_explorer,
    softmax_explorer,
)

__all__ = [
    "ACTIVATIONS", "SURFACES", "KERNELS", "COLORS", "PALETTE", "new_figure", "to_png", "show",
    "plot_activation", "plot_softmax", "descend", "plot_descent",
    "depth_statistics", "plot_depth_statistics", "plot_convolution", "plot_pooling",
    "plot_filters", "plot_feature_maps", "plot_confusion_matrix", "plot_misclassified",
    "plot_decision_boundary", "plot_history", "LiveDashboard", "View",
    "activation_explorer", "loss_explorer", "softmax_explorer", "gd_playground",
    "init_explorer", "convolution_explorer", "pooling_explorer", "backprop_explorer",
    "decision_boundary_view", "plot_model", "plot_weight_images",
    # chapter 09 (conv_views)
    "KERNEL_PRESETS", "make_kernel", "plot_conv_layer", "plot_sliding_window",
    "sliding_window_explorer",
    # chapter 04 (loss_views) and chapter 06 (backprop_views)
    "BINARY_LOSSES", "binary_losses", "plot_binary_losses", "plot_gradient_magnitudes",
    "plot_runs", "plot_graph", "small_network", "backprop_values", "plot_backprop_network",
    "STEP_FUNCTIONS", "difference_errors", "plot_step_errors", "step_size_explorer",
    "parse_shape", "broadcast_alignment", "plot_broadcast", "broadcast_explorer", "plot_timings",
    "INITS", "plot_neuron", "neuron_explorer", "layer_profile", "plot_layer_profile",
    "init_grid", "plot_init_grid",
    # chapter 13 (attention)
    "attention_explorer", "attention_layers", "attention_maps", "plot_attention",
    # chapter 10 (cnn) and chapter 11 (gradient_flow)
    "layer_outputs", "plot_feature_path", "feature_map_explorer",
    "depth_gradient_norms", "plot_depth_gradients", "time_gradient_norms",
    "plot_time_gradients", "residual_gradient_view", "gradient_through_time_view",
    # chapter 12 (ocr)
    "GRID", "EXAMPLES", "FIELDS", "strokes_to_grid", "read_image", "thicken",
    "field_probabilities", "plot_reading", "DrawingPad", "drawing_pad_view", "find_mistakes",
    "plot_worst_mistakes", "mistake_explorer",
    # chapter 08 (regularization)
    "regularization_data", "train_regularized", "plot_regularization", "regularization_explorer",
    # chapter 14 (autograd_views)
    "EXPRESSIONS", "expression_graph", "backward_steps", "plot_expression_graph",
    "autograd_explorer",
]
