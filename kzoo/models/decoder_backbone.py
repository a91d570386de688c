"""The GPT-style decoder-only backbone."""

import keras

from kzoo.layers import TransformerDecoderBlock
from kzoo.layers.position_encodings import (
    POSITION_ENCODINGS,
    additive_position_layer,
    encode_positions,
    rotary_max_wavelength,
)
from kzoo.models.serialization import backbone_config, set_dtype_policy
from kzoo.runtime.validation import check_choice, check_positive_int, check_rate


def _forward(backbone_layers, token_ids, padding_mask=None, state=None, cache_index=None, write_cache=True):
    """The one forward pass of the decoder, uncached (training) or cached over `state`'s caches (decoding).

    token_ids [B, T] -> hidden [B, T, D] (and the updated `{"cache_<layer>": [B, 2, H, S, K]}`).
    """
    token_embedding, position_embedding, dropout, blocks, final_norm = backbone_layers
    x = token_embedding(token_ids)
    if position_embedding is not None:
        x = x + encode_positions(position_embedding, x, 0 if cache_index is None else cache_index)
    x = dropout(x)
    updated = {}
    for layer, block in enumerate(blocks):
        if state is None:
            x = block(x, decoder_padding_mask=padding_mask)
        else:
            x, updated[f"cache_{layer}"] = block(x, self_attention_cache=state[f"cache_{layer}"], cache_index=cache_index,
                                                 write_cache=write_cache)
    x = final_norm(x)
    return x if state is None else (x, updated)


@keras.saving.register_keras_serializable(package="kzoo")
class DecoderBackbone(keras.Model):
    """Token + learned position embeddings, pre-layer-norm causal blocks, a final norm.

    Implements GPT-2 (Radford et al., 2019). With `vocabulary_size=50257,
    num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072,
    max_sequence_length=1024` it has GPT-2 small's 124,439,808 parameters.

    Inputs: `token_ids` `[B, T]`, `padding_mask` `[B, T]`. Output: `sequence_output`
    `[B, T, D]`. `forward_with_cache` runs the same layers one step at a time.

    Args:
        vocabulary_size: int.
        num_layers: int.
        num_heads: int.
        hidden_dim: int, divisible by `num_heads`.
        intermediate_dim: int.
        dropout: float. Defaults to 0.1.
        max_sequence_length: int. Defaults to 1024.
        activation: str. Defaults to "gelu_approximate" (GPT-2's).
        layer_norm_epsilon: float. Defaults to 1e-5.
        position_encoding: str. "learned" (GPT-2's, the default), "sinusoidal",
            "sinusoidal_concat", "rotary" (in every self-attention) or "none"
            (`kzoo.layers.position_encodings`).
        dtype: dtype policy.

    Example:
    ```python
    backbone = DecoderBackbone(vocabulary_size=100, num_layers=2, num_heads=2,
                               hidden_dim=32, intermediate_dim=64, max_sequence_length=16)
    ```

    References:
        - [Radford et al., 2019](https://cdn.openai.com/better-language-models/language_models_are_unsupervised_multitask_learners.pdf)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=1024,
        activation="gelu_approximate",
        layer_norm_epsilon=1e-5,
        position_encoding="learned",
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        check_positive_int("num_layers", num_layers)
        check_positive_int("max_sequence_length", max_sequence_length)
        check_rate("dropout", dropout)
        initializer = keras.initializers.RandomNormal(stddev=0.02)
        token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size, hidden_dim, embeddings_initializer=initializer, dtype=dtype, name="token_embedding"
        )
        position_embedding = additive_position_layer(
            position_encoding, max_sequence_length, dtype, "position_embedding", initializer=initializer
        )
        embeddings_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")
        blocks = [
            TransformerDecoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                activation=activation,
                layer_norm_epsilon=layer_norm_epsilon,
                normalize_first=True,
                kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
                rotary_max_wavelength=rotary_max_wavelength(position_encoding),
                dtype=dtype,
                name=f"decoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        final_norm = keras.layers.LayerNormalization(epsilon=layer_norm_epsilon, dtype=dtype, name="final_norm")
        backbone_layers = (token_embedding, position_embedding, embeddings_dropout, blocks, final_norm)

        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        sequence = _forward(backbone_layers, token_ids, padding_mask)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=sequence,
            dtype=dtype,
            **kwargs,
        )
        set_dtype_policy(self, dtype)
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.position_encoding = position_encoding
        self.token_embedding = token_embedding
        self.position_embedding = position_embedding
        self.blocks = blocks
        self.final_norm = final_norm
        self._backbone_layers = backbone_layers

    def cache_shape(self, batch_size, max_length):
        """`[B, 2, H, S, K]`: one layer's keys, then values (the state holds one `cache_<layer>` per layer)."""
        return (batch_size, 2, self.num_heads, max_length, self.hidden_dim // self.num_heads)

    def cache_names(self):
        """`cache_0`, `cache_1`, ...: the decoding-state entry of each layer's KV cache."""
        return tuple(f"cache_{layer}" for layer in range(self.num_layers))

    def forward_with_cache(self, token_ids, state, cache_index, write_cache=True):
        """token_ids [B, T] at positions cache_index.. -> hidden [B, T, D], the updated `cache_<layer>` entries
        (with `write_cache=False`, each layer's new keys and values)."""
        return _forward(self._backbone_layers, token_ids, state=state, cache_index=cache_index, write_cache=write_cache)

    def get_config(self):
        return backbone_config(
            self,
            "vocabulary_size",
            "num_layers",
            "num_heads",
            "hidden_dim",
            "intermediate_dim",
            "dropout",
            "max_sequence_length",
            "activation",
            "layer_norm_epsilon",
            "position_encoding",
        )
