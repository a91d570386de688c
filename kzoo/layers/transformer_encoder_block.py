"""A Transformer encoder block built from kzoo's fused attention."""

import keras

from kzoo.layers.feed_forward import FeedForward
from kzoo.layers.multi_head_attention import MultiHeadAttention
from kzoo.layers.utils import check_activation, clone_initializer, load_keras_hub_block_weights
from kzoo.runtime.validation import check_divisible, check_positive_float, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class TransformerEncoderBlock(keras.layers.Layer):
    """Bidirectional self-attention and a feed-forward network, each with a residual.

    Implements the encoder layer of Vaswani et al. (2017); `normalize_first=False`
    is the post-layer-norm arrangement of BERT, `True` the pre-layer-norm one of
    GPT-2 and ViT. Given the same weights it computes what keras-hub's
    `TransformerEncoder` computes.

    Masks: `padding_mask` `[B, T]` (1 for real tokens; a Keras mask on `inputs` is
    used when it is not given) hides padded keys, so padded positions cannot change
    the outputs at real positions. `attention_mask` `[B, T, T]` is ANDed in.

    Args:
        num_heads: int. Number of attention heads; must divide the input width.
        intermediate_dim: int. Width of the feed-forward hidden layer.
        dropout: float in [0, 1). Dropout after attention, in the attention
            probabilities and after the feed-forward network. Defaults to 0.
        activation: str. Feed-forward activation. Defaults to "relu".
        layer_norm_epsilon: float. Defaults to 1e-5.
        normalize_first: bool. Pre-layer-norm if True. Defaults to False.
        kernel_initializer: Defaults to "glorot_uniform".
        bias_initializer: Defaults to "zeros".
        rotary_max_wavelength: int or None. Rotary positions in the
            self-attention (`MultiHeadAttention`); None (default) for none.

    Example:
    ```python
    import numpy as np
    block = TransformerEncoderBlock(num_heads=4, intermediate_dim=64)
    x = np.random.rand(2, 7, 32).astype("float32")
    y = block(x, padding_mask=np.array([[1] * 7, [1] * 4 + [0] * 3]))   # [2, 7, 32]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-5,
        normalize_first=False,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        rotary_max_wavelength=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rotary_max_wavelength = rotary_max_wavelength
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim)
        self.dropout = check_rate("dropout", dropout)
        self.activation = check_activation(activation)
        self.layer_norm_epsilon = check_positive_float("layer_norm_epsilon", layer_norm_epsilon)
        self.normalize_first = bool(normalize_first)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        width = inputs_shape[-1]
        check_divisible("hidden_dim", width, "num_heads", self.num_heads)
        self.self_attention = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=width // self.num_heads,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            rotary_max_wavelength=self.rotary_max_wavelength,
            dtype=self.dtype_policy,
            name="self_attention",
        )
        self.self_attention.build(inputs_shape)
        self.self_attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="self_attention_norm"
        )
        self.self_attention_norm.build(inputs_shape)
        self.self_attention_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="self_attention_dropout"
        )
        self.feed_forward = FeedForward(
            self.intermediate_dim,
            activation=self.activation,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self.feed_forward.build(inputs_shape)
        self.feed_forward_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="feed_forward_norm"
        )
        self.feed_forward_norm.build(inputs_shape)
        self.built = True

    def call(self, inputs, padding_mask=None, attention_mask=None, return_attention_scores=False, training=None):
        """[B, T, D] -> [B, T, D] (and attention probabilities [B, H, T, T] if asked)."""
        if padding_mask is None:
            padding_mask = getattr(inputs, "_keras_mask", None)
        x = inputs
        normed = self.self_attention_norm(x) if self.normalize_first else x
        attended = self.self_attention(
            normed,
            value_mask=padding_mask,
            attention_mask=attention_mask,
            return_attention_scores=return_attention_scores,
            training=training,
        )
        if return_attention_scores:
            attended, scores = attended
        x = x + self.self_attention_dropout(attended, training=training)
        if not self.normalize_first:
            x = self.self_attention_norm(x)

        normed = self.feed_forward_norm(x) if self.normalize_first else x
        x = x + self.feed_forward(normed, training=training)
        if not self.normalize_first:
            x = self.feed_forward_norm(x)
        return (x, scores) if return_attention_scores else x

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def load_keras_hub_weights(self, reference):
        """Copy the weights of a built keras-hub `TransformerEncoder` with the same configuration."""
        load_keras_hub_block_weights(self, reference)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": self.activation,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "normalize_first": self.normalize_first,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "rotary_max_wavelength": self.rotary_max_wavelength,
            }
        )
        return config
