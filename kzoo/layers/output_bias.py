"""A learned bias over the vocabulary, added to tied-embedding logits."""

import keras
from keras import ops

from kzoo.runtime.validation import check_positive_int


@keras.saving.register_keras_serializable(package="kzoo")
class OutputBias(keras.layers.Layer):
    """Adds a learned `[V]` bias to logits `[..., V]` (BERT's MLM head, Marian's `final_logits_bias`).

    A tied output projection (`ReversibleEmbedding(..., reverse=True)`) has no bias
    of its own; this layer gives it one. It has no mask logic; masks pass through.

    Args:
        vocabulary_size: int. The logits' last axis.

    Example:
    ```python
    import numpy as np
    bias = OutputBias(5)
    bias(np.zeros((2, 3, 5), "float32")).shape   # (2, 3, 5), zeros until trained or loaded
    ```
    """

    def __init__(self, vocabulary_size, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        self.supports_masking = True

    def build(self, inputs_shape):
        self.bias = self.add_weight(shape=(self.vocabulary_size,), initializer="zeros", name="bias")
        self.built = True

    def call(self, inputs):
        """logits [..., V] -> logits + bias [..., V]."""
        return inputs + ops.cast(self.bias, inputs.dtype)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config["vocabulary_size"] = self.vocabulary_size
        return config
