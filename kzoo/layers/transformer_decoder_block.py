"""A Transformer decoder block with a KV cache that exports to TFLite and ONNX."""

import keras

from kzoo.layers.feed_forward import FeedForward
from kzoo.layers.multi_head_attention import MultiHeadAttention
from kzoo.layers.utils import check_activation, clone_initializer, load_keras_hub_block_weights
from kzoo.runtime.validation import check_divisible, check_positive_float, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class TransformerDecoderBlock(keras.layers.Layer):
    """Causal self-attention, optional cross-attention and a feed-forward network.

    Implements the decoder layer of Vaswani et al. (2017). Called with an
    `encoder_sequence` the first time, the block builds cross-attention (the
    encoder-decoder attention of the paper); called without, it is a GPT-style
    decoder-only block. Given the same weights it computes what keras-hub's
    `TransformerDecoder` computes.

    The same `call` serves training and cached decoding: pass
    `self_attention_cache` `[B, 2, H, S_max, K]` and `cache_index` to decode T new
    tokens at positions `cache_index ... cache_index + T - 1` (`cache_index` a scalar
    or `[B]`, a position per row); the updated cache is returned, or with
    `write_cache=False` only the new keys and values `[B, 2, H, T, K]`, for a caller
    that keeps the cache itself (the exported decode step). Cross-attention then reads `cross_attention_cache` `[B, 2, H, S, K]`
    from `compute_cross_attention_cache(encoder_sequence)`, computed once.

    Masks: `decoder_padding_mask` `[B, T]` hides padded decoder keys (not with a
    cache: there `cache_index` says which slots hold keys),
    `encoder_padding_mask` `[B, S]` padded encoder keys (Keras masks on the
    sequences are used when these are not given); `use_causal_mask` (default True)
    hides future positions.

    Args:
        num_heads: int. Number of attention heads; must divide the input width.
        intermediate_dim: int. Width of the feed-forward hidden layer.
        dropout: float in [0, 1). Defaults to 0.
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
    block = TransformerDecoderBlock(num_heads=2, intermediate_dim=32)
    x = np.random.rand(2, 6, 16).astype("float32")
    full = block(x)                                        # [2, 6, 16]
    cache = np.zeros((2, 2, 2, 6, 8), "float32")
    first, cache = block(x[:, :1], self_attention_cache=cache, cache_index=0)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
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
        self.has_cross_attention = None  # Set by build().

    def _attention(self, width, name, rotary_max_wavelength=None):
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=width // self.num_heads,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            rotary_max_wavelength=rotary_max_wavelength,
            dtype=self.dtype_policy,
            name=name,
        )

    def _norm(self, shape, name):
        norm = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name)
        norm.build(shape)
        return norm

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        width = decoder_sequence_shape[-1]
        check_divisible("hidden_dim", width, "num_heads", self.num_heads)
        self.has_cross_attention = encoder_sequence_shape is not None
        self.self_attention = self._attention(width, "self_attention", self.rotary_max_wavelength)
        self.self_attention.build(decoder_sequence_shape)
        self.self_attention_norm = self._norm(decoder_sequence_shape, "self_attention_norm")
        self.self_attention_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="self_attention_dropout"
        )
        if self.has_cross_attention:
            self.cross_attention = self._attention(width, "cross_attention")
            self.cross_attention.build(decoder_sequence_shape, encoder_sequence_shape)
            self.cross_attention_norm = self._norm(decoder_sequence_shape, "cross_attention_norm")
            self.cross_attention_dropout = keras.layers.Dropout(
                self.dropout, dtype=self.dtype_policy, name="cross_attention_dropout"
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
        self.feed_forward.build(decoder_sequence_shape)
        self.feed_forward_norm = self._norm(decoder_sequence_shape, "feed_forward_norm")
        self.built = True

    def compute_cross_attention_cache(self, encoder_sequence):
        """Encoder output [B, S, D_e] -> cross-attention cache [B, 2, H, S, K], once per input."""
        if not self.has_cross_attention:
            raise ValueError(f"Layer {self.name} has no cross-attention; it was built without an encoder_sequence.")
        return self.cross_attention.compute_key_value_cache(encoder_sequence)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        cache_index=None,
        cross_attention_cache=None,
        use_causal_mask=True,
        write_cache=True,
        return_attention_scores=False,
        training=None,
    ):
        """Decoder sequence [B, T, D] -> [B, T, D].

        Returns a tuple when asked for more: the updated `self_attention_cache`
        (when one is given), then the cross-attention probabilities `[B, H, T, S]`
        (when `return_attention_scores`).
        """
        cross_given = encoder_sequence is not None or cross_attention_cache is not None
        if cross_given and not self.has_cross_attention:
            raise ValueError(
                f"Layer {self.name} was built without cross-attention and cannot take an "
                "`encoder_sequence` or `cross_attention_cache`; build it by calling it "
                "with an encoder_sequence first."
            )
        if self.has_cross_attention and not cross_given:
            raise ValueError(
                f"Layer {self.name} has cross-attention and needs an `encoder_sequence` "
                "or a `cross_attention_cache`; received neither."
            )
        if decoder_padding_mask is None and self_attention_cache is None:
            decoder_padding_mask = getattr(decoder_sequence, "_keras_mask", None)
        if encoder_padding_mask is None and encoder_sequence is not None:
            encoder_padding_mask = getattr(encoder_sequence, "_keras_mask", None)

        x = decoder_sequence
        normed = self.self_attention_norm(x) if self.normalize_first else x
        attended = self.self_attention(
            normed,
            value_mask=decoder_padding_mask,
            use_causal_mask=use_causal_mask,
            cache=self_attention_cache,
            cache_index=cache_index,
            write_cache=write_cache,
            training=training,
        )
        if self_attention_cache is not None:
            attended, self_attention_cache = attended
        x = x + self.self_attention_dropout(attended, training=training)
        if not self.normalize_first:
            x = self.self_attention_norm(x)

        scores = None
        if self.has_cross_attention:
            normed = self.cross_attention_norm(x) if self.normalize_first else x
            attended = self.cross_attention(
                normed,
                value=encoder_sequence if cross_attention_cache is None else None,
                value_mask=encoder_padding_mask,
                cache=cross_attention_cache,
                return_attention_scores=return_attention_scores,
                training=training,
            )
            if return_attention_scores:
                attended, scores = attended
            x = x + self.cross_attention_dropout(attended, training=training)
            if not self.normalize_first:
                x = self.cross_attention_norm(x)

        normed = self.feed_forward_norm(x) if self.normalize_first else x
        x = x + self.feed_forward(normed, training=training)
        if not self.normalize_first:
            x = self.feed_forward_norm(x)

        outputs = [x]
        if self_attention_cache is not None:
            outputs.append(self_attention_cache)
        if return_attention_scores:
            outputs.append(scores)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def compute_output_spec(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        cache_index=None,
        cross_attention_cache=None,
        use_causal_mask=True,
        write_cache=True,
        return_attention_scores=False,
        training=None,
    ):
        outputs = [keras.KerasTensor(decoder_sequence.shape, dtype=self.compute_dtype)]
        if self_attention_cache is not None:
            shape = self_attention_cache.shape
            if not write_cache:
                shape = shape[:3] + (decoder_sequence.shape[1],) + shape[4:]
            outputs.append(keras.KerasTensor(shape, dtype=self_attention_cache.dtype))
        if return_attention_scores:
            if encoder_sequence is not None:
                length = encoder_sequence.shape[1]
            else:
                length = cross_attention_cache.shape[3]
            outputs.append(
                keras.KerasTensor(
                    (decoder_sequence.shape[0], self.num_heads, decoder_sequence.shape[1], length), self.compute_dtype
                )
            )
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def load_keras_hub_weights(self, reference):
        """Copy the weights of a built keras-hub `TransformerDecoder` with the same configuration."""
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
