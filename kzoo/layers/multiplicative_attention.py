"""Multiplicative (Luong) attention, `dot` and `general` scores, for the GRU seq2seq."""

import keras
from keras import ops

from kzoo.layers.single_head_attention import SingleHeadAttention
from kzoo.layers.utils import clone_initializer
from kzoo.runtime.validation import check_choice

SCORES = ("dot", "general")


@keras.saving.register_keras_serializable(package="kzoo")
class MultiplicativeAttention(SingleHeadAttention):
    """`score(q, k) = q . k` (dot) or `q . (W_a k)` (general), softmax over keys, weighted sum of values.

    The two multiplicative scores of Luong et al. (2015), Section 3.1. `dot` has
    no parameters and needs queries and keys of one width; `general` learns
    `W_a`, which maps a key to the query's width, so widths may differ. Unlike
    `keras.layers.Attention`, whose `score_mode="dot"` is the same `dot` score,
    this layer has `general`, takes a precomputed `projected_keys` (`W_a k`,
    once per source sentence, as `AdditiveAttention` does), softmaxes in float32
    and records its weights for `kzoo.models.attention_weights`.

    `scale=True` divides the scores by `sqrt(D_q)`, as scaled dot-product
    attention does; Luong et al. do not, and neither does the default.

    Args:
        score: `"dot"` or `"general"`.
        scale: bool. Divide the scores by `sqrt(D_q)`. Defaults to False (the paper).
        kernel_initializer: `W_a`'s initializer. Defaults to "glorot_uniform".

    Call arguments:
        query: `[B, T, D_q]` decoder states.
        keys: `[B, S, D_k]` encoder states (also the values).
        keys_mask: optional `[B, S]`, 1 for real keys.
        projected_keys: optional `[B, S, D_q]` from `project_keys`.

    Returns context `[B, T, D_k]` and, with `return_attention_scores`, weights
    `[B, T, S]`.

    Example:
    ```python
    import numpy as np
    attention = MultiplicativeAttention("general")
    context = attention(np.zeros((2, 3, 8), "float32"), keys=np.ones((2, 5, 12), "float32"))  # [2, 3, 12]
    ```

    References:
        - [Luong et al., 2015](https://arxiv.org/abs/1508.04025)
    """

    def __init__(self, score, scale=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.score = check_choice("score", score, SCORES)
        self.scale = bool(scale)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, query_shape, keys_shape=None):
        keys_shape = keys_shape if keys_shape is not None else query_shape
        if self.score == "dot" and keys_shape[-1] != query_shape[-1]:
            raise ValueError(
                f"The dot score needs queries and keys of one width; got {query_shape[-1]} and {keys_shape[-1]}. "
                'Use score="general", which learns a map between them.'
            )
        self.key_dense = None
        if self.score == "general":
            self.key_dense = keras.layers.Dense(
                query_shape[-1],
                use_bias=False,
                kernel_initializer=clone_initializer(self.kernel_initializer),
                dtype=self.dtype_policy,
                name="key",
            )
            self.key_dense.build(keys_shape)
        self.built = True

    def project_keys(self, keys):
        """[B, S, D_k] -> [B, S, D_q]: `W_a k` for `general`, the keys themselves for `dot`."""
        return keys if self.key_dense is None else self.key_dense(keys)

    def scores(self, query, projected_keys):
        """float32 scores `[B, T, S]` before masking and softmax."""
        scores = ops.cast(ops.matmul(query, ops.swapaxes(projected_keys, 1, 2)), "float32")
        return scores / float(query.shape[-1]) ** 0.5 if self.scale else scores

    def get_config(self):
        config = super().get_config()
        config.update(
            {"score": self.score, "scale": self.scale, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
        )
        return config
