"""The BERT-style Transformer encoder backbone."""

import keras

from kzoo.layers import TransformerEncoderBlock
from kzoo.layers.position_encodings import POSITION_ENCODINGS, additive_position_layer, rotary_max_wavelength
from kzoo.models.serialization import backbone_config, set_dtype_policy
from kzoo.runtime.validation import check_choice, check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class EncoderBackbone(keras.Model):
    """Token + position + segment embeddings, then post-layer-norm encoder blocks.

    Implements BERT (Devlin et al., 2019). With `vocabulary_size=30522,
    num_layers=12, num_heads=12, hidden_dim=768, intermediate_dim=3072,
    max_sequence_length=512, num_segments=2` it has BERT-base's 109,482,240
    parameters, pooler included.

    Inputs (named, and so are the exported signatures): `token_ids` `[B, T]` int,
    `segment_ids` `[B, T]` int, `padding_mask` `[B, T]` (1 for real tokens; padded
    positions cannot change the outputs at real ones).
    Outputs: `sequence_output` `[B, T, D]` and `pooled_output` `[B, D]` (tanh
    projection of the first token).

    Args:
        vocabulary_size: int.
        num_layers: int.
        num_heads: int.
        hidden_dim: int, divisible by `num_heads`.
        intermediate_dim: int. Feed-forward width.
        dropout: float. Defaults to 0.1.
        max_sequence_length: int. Defaults to 512.
        num_segments: int. Defaults to 2.
        activation: str. Defaults to "gelu" (BERT's exact GELU).
        layer_norm_epsilon: float. Defaults to 1e-12 (BERT's).
        position_encoding: str. "learned" (BERT's, the default), "sinusoidal",
            "sinusoidal_concat", "rotary" (in every self-attention) or "none"
            (`kzoo.layers.position_encodings`).
        dtype: dtype policy, e.g. "mixed_bfloat16".

    Example:
    ```python
    import numpy as np
    backbone = EncoderBackbone(vocabulary_size=100, num_layers=2, num_heads=2,
                               hidden_dim=32, intermediate_dim=64, max_sequence_length=16)
    out = backbone({"token_ids": np.ones((2, 8), "int32"), "segment_ids": np.zeros((2, 8), "int32"),
                    "padding_mask": np.ones((2, 8), "int32")})
    out["pooled_output"].shape   # (2, 32)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=512,
        num_segments=2,
        activation="gelu",
        layer_norm_epsilon=1e-12,
        position_encoding="learned",
        dtype=None,
        **kwargs,
    ):
        check_positive_int("vocabulary_size", vocabulary_size)
        check_choice("position_encoding", position_encoding, POSITION_ENCODINGS)
        check_positive_int("num_layers", num_layers)
        check_rate("dropout", dropout)
        token_embedding = keras.layers.ReversibleEmbedding(
            vocabulary_size,
            hidden_dim,
            embeddings_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=dtype,
            name="token_embedding",
        )
        position_embedding = additive_position_layer(position_encoding, max_sequence_length, dtype, "position_embedding")
        segment_embedding = keras.layers.Embedding(
            num_segments,
            hidden_dim,
            embeddings_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=dtype,
            name="segment_embedding",
        )
        embeddings_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="embeddings_norm"
        )
        blocks = [
            TransformerEncoderBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                activation=activation,
                layer_norm_epsilon=layer_norm_epsilon,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                rotary_max_wavelength=rotary_max_wavelength(position_encoding),
                dtype=dtype,
                name=f"encoder_block_{i}",
            )
            for i in range(num_layers)
        ]
        pooler = keras.layers.Dense(hidden_dim, activation="tanh", dtype=dtype, name="pooler")

        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        segment_ids = keras.Input(shape=(None,), dtype="int32", name="segment_ids")
        padding_mask = keras.Input(shape=(None,), dtype="int32", name="padding_mask")
        tokens = token_embedding(token_ids)
        x = tokens if position_embedding is None else tokens + position_embedding(tokens)
        x = x + segment_embedding(segment_ids)
        x = embeddings_norm(x)
        x = keras.layers.Dropout(dropout, dtype=dtype, name="embeddings_dropout")(x)
        for block in blocks:
            x = block(x, padding_mask=padding_mask)
        pooled = pooler(x[:, 0, :])
        super().__init__(
            inputs={"token_ids": token_ids, "segment_ids": segment_ids, "padding_mask": padding_mask},
            outputs={"sequence_output": x, "pooled_output": pooled},
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
        self.num_segments = num_segments
        self.activation = activation
        self.layer_norm_epsilon = layer_norm_epsilon
        self.position_encoding = position_encoding
        self.token_embedding = token_embedding
        self.position_embedding = position_embedding
        self.segment_embedding = segment_embedding
        self.embeddings_norm = embeddings_norm
        self.blocks = blocks
        self.pooler = pooler

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
            "num_segments",
            "activation",
            "layer_norm_epsilon",
            "position_encoding",
        )
