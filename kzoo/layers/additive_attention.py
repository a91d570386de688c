"""Additive (Bahdanau) attention with projections, for the GRU seq2seq."""

import keras
from keras import ops

from kzoo.layers.single_head_attention import SingleHeadAttention
from kzoo.layers.utils import clone_initializer
from kzoo.runtime.validation import check_positive_int


@keras.saving.register_keras_serializable(package="kzoo")
class AdditiveAttention(SingleHeadAttention):
    """`score(q, k) = v^T tanh(W_q q + W_k k)`, softmax over keys, weighted sum of values.

    Implements the alignment model of Bahdanau et al. (2015). Unlike
    `keras.layers.AdditiveAttention`, which adds raw query and key vectors, this
    layer learns the projections `W_q`, `W_k` and `v` of the paper. The projected
    keys do not depend on the decoder, so a decoder computes them once with
    `project_keys(keys)` and passes them as `projected_keys` at every step.

    Masks: `keys_mask` `[B, S]` (a Keras mask on `keys` when not given) hides
    padded encoder positions. Scores are softmaxed in float32.

    Args:
        units: int. Width of the alignment model.
        kernel_initializer: Defaults to "glorot_uniform".

    Call arguments:
        query: `[B, T, D_q]` decoder states.
        keys: `[B, S, D_k]` encoder states (also the values).
        projected_keys: optional `[B, S, units]` from `project_keys`.

    Returns context `[B, T, D_k]` and, with `return_attention_scores`, weights
    `[B, T, S]`.

    Example:
    ```python
    import numpy as np
    attention = AdditiveAttention(units=16)
    context = attention(np.zeros((2, 3, 8), "float32"), keys=np.ones((2, 5, 12), "float32"))  # [2, 3, 12]
    ```

    References:
        - [Bahdanau et al., 2015](https://arxiv.org/abs/1409.0473)
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, query_shape, keys_shape=None):
        def dense(name, units, use_bias):
            return keras.layers.Dense(
                units,
                use_bias=use_bias,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                dtype=self.dtype_policy,
                name=name,
            )

        self.query_dense = dense("query", self.units, use_bias=True)
        self.query_dense.build(query_shape)
        self.key_dense = dense("key", self.units, use_bias=False)
        self.key_dense.build(keys_shape if keys_shape is not None else query_shape)
        self.score_dense = dense("score", 1, use_bias=False)
        self.score_dense.build((None, self.units))
        self.built = True

    def project_keys(self, keys):
        """[B, S, D_k] -> [B, S, units], once per source sentence."""
        return self.key_dense(keys)

    def scores(self, query, projected_keys):
        """float32 alignment scores `[B, T, S]` before masking and softmax."""
        projected_query = self.query_dense(query)  # [B, T, U]
        hidden = ops.tanh(ops.expand_dims(projected_query, 2) + ops.expand_dims(projected_keys, 1))  # [B, T, S, U]
        return ops.cast(ops.squeeze(self.score_dense(hidden), -1), "float32")

    def get_config(self):
        config = super().get_config()
        config.update(
            {"units": self.units, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
        )
        return config
