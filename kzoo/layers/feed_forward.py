"""The position-wise feed-forward sublayer of a Transformer block."""

import keras

from kzoo.layers.utils import activation_function, check_activation, clone_initializer
from kzoo.runtime.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class FeedForward(keras.layers.Layer):
    """Dense -> activation -> Dense -> dropout, applied to every position alike.

    Implements the feed-forward network of Vaswani et al. (2017), section 3.3. It
    does not look across positions, so it needs no mask.

    Args:
        intermediate_dim: int. Width of the hidden layer.
        activation: str. One of `kzoo.layers.utils.ACTIVATIONS`. Defaults to "relu".
        dropout: float in [0, 1). Dropout on the output. Defaults to 0.
        kernel_initializer: initializer for both kernels. Defaults to "glorot_uniform".
        bias_initializer: initializer for both biases. Defaults to "zeros".

    Example:
    ```python
    import numpy as np
    ff = FeedForward(intermediate_dim=64, activation="gelu")
    y = ff(np.zeros((2, 5, 16), "float32"))   # [2, 5, 16]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(
        self,
        intermediate_dim,
        activation="relu",
        dropout=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.activation = check_activation(activation)
        self.dropout = check_rate("dropout", dropout)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        self.intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=activation_function(self.activation),
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self.intermediate_dense.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
            inputs_shape[-1],
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="output_dense",
        )
        self.output_dense.build(tuple(inputs_shape[:-1]) + (self.intermediate_dim,))
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="dropout")
        self.built = True

    def call(self, inputs, training=None):
        """[B, T, D] -> [B, T, D]."""
        hidden = self.intermediate_dense(inputs)
        return self.dropout_layer(self.output_dense(hidden), training=training)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "activation": self.activation,
                "dropout": self.dropout,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
