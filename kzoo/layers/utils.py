"""Helpers shared by the kzoo layers: activations, initializer cloning, weight copying, score masking.

Argument checks live in `kzoo.runtime.validation` (one module for the whole package).

Example:
```python
check_activation("gelu")             # returns 'gelu'
activation_function("gelu")(x)       # exact GELU through erf
```
"""

import keras

from kzoo.runtime.validation import check_choice

ACTIVATIONS = ("relu", "gelu", "gelu_approximate", "silu", "swish", "tanh", "sigmoid", "linear")


def check_activation(value):
    """Accept the activation names listed in `ACTIVATIONS`; returns the name."""
    return check_choice("activation", value, ACTIVATIONS)


def exact_gelu(x):
    """GELU, `0.5 x (1 + erf(x / sqrt(2)))`.

    Written with `erf` because `keras.activations.gelu` lowers to TensorFlow's `Erfc`,
    which tf2onnx 1.17 cannot convert; TFLite fuses this form into its GELU builtin.
    """
    return 0.5 * x * (1.0 + keras.ops.erf(x * 0.7071067811865476))


def swish(x):
    """SiLU / swish, `x * sigmoid(x)`.

    Written out because Keras's `silu` lowers to `tf.nn.silu`, whose custom gradient
    captures its `beta` tensor, which the TFLite converter refuses to save.
    """
    return x * keras.ops.sigmoid(x)


def activation_function(name):
    """The callable for an activation name from `ACTIVATIONS`."""
    if name == "gelu_approximate":
        return lambda x: keras.activations.gelu(x, approximate=True)
    if name == "gelu":
        return exact_gelu
    if name in ("silu", "swish"):
        return swish
    return keras.activations.get(name)


def clone_initializer(initializer):
    """A fresh copy, so two sublayers never share one seeded initializer's state."""
    initializer = keras.initializers.get(initializer)
    return initializer.__class__.from_config(initializer.get_config())


def copy_weights(target, source):
    """Assign `source`'s weights to `target` (same structure), naming any shape mismatch."""
    if len(target.weights) != len(source.weights):
        raise ValueError(
            f"Cannot load {source.name} into {target.name}: {len(source.weights)} weights there, "
            f"{len(target.weights)} here."
        )
    for variable, value in zip(target.weights, source.weights):
        if tuple(variable.shape) != tuple(value.shape):
            raise ValueError(
                f"Cannot load {value.path} into {variable.path}: shape {tuple(value.shape)} "
                f"there, {tuple(variable.shape)} here."
            )
        variable.assign(value)


def load_keras_hub_block_weights(block, reference):
    """Copy a keras-hub TransformerEncoder/TransformerDecoder into a kzoo block."""
    if not block.built:
        raise ValueError(f"Build layer {block.name} (call it once) before loading weights into it.")
    pairs = [
        (block.self_attention_norm, reference._self_attention_layer_norm),
        (block.feed_forward.intermediate_dense, reference._feedforward_intermediate_dense),
        (block.feed_forward.output_dense, reference._feedforward_output_dense),
        (block.feed_forward_norm, reference._feedforward_layer_norm),
    ]
    block.self_attention.load_keras_weights(reference._self_attention_layer)
    if getattr(block, "has_cross_attention", False):
        if getattr(reference, "_cross_attention_layer", None) is None:
            raise ValueError(f"Cannot load {reference.name}: it has no cross-attention and {block.name} has.")
        block.cross_attention.load_keras_weights(reference._cross_attention_layer)
        pairs.append((block.cross_attention_norm, reference._cross_attention_layer_norm))
    for target, source in pairs:
        copy_weights(target, source)


MASK_MARGIN = 30.0  # exp(-30) ~ 1e-13: a masked key's weight is below float32 resolution.


def mask_scores(scores, mask):
    """Push masked attention scores to the row's lowest score minus `MASK_MARGIN`.

    `scores` are float32 logits `[..., S]`; `mask` is 1/0 float32 broadcastable to
    them. The usual `scores + (1 - mask) * -1e9` gives the softmax input a range of
    1e9: full-int8 TFLite then quantizes it with a step of ~4e6 and every real
    score collapses to one value (measured: a trained tiny translator fell from
    100% to 0% exact match; with this masking it keeps 100%). Here the range grows
    by `MASK_MARGIN` only, and masked keys still get a weight of ~1e-13 or less.
    A fully masked row stays uniform, as with Keras.
    """
    floor = keras.ops.stop_gradient(keras.ops.min(scores, axis=-1, keepdims=True)) - MASK_MARGIN
    # A select, not `scores * mask + floor * (1 - mask)`: an overflowed score (inf) times 0 is NaN.
    return keras.ops.where(keras.ops.greater(mask, 0.5), scores, floor)

