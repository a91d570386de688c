"""The base of kzoo's single-head attention layers: masking, float32 softmax, context, recording."""

import keras
from keras import ops

from kzoo.layers import attention_recording
from kzoo.layers.utils import mask_scores


class SingleHeadAttention(keras.layers.Layer):
    """One distribution over the keys per query, from a subclass's `scores(query, projected_keys)`.

    The recurrent seq2seq attentions differ only in how they score a query
    against a key: `AdditiveAttention` (Bahdanau, Luong's concat) and
    `MultiplicativeAttention` (Luong's dot and general). A subclass defines
    `project_keys(keys)` (the part of the score that depends on the keys alone,
    computed once per source sentence) and `scores(query, projected_keys)`
    (float32 `[B, T, S]`); this class masks the scores (`mask_scores`), softmaxes
    them in float32, weighs the keys (which are also the values) and records the
    weights for `kzoo.models.attention_weights`.

    Call arguments:
        query: `[B, T, D_q]`.
        keys: `[B, S, D_k]`, also the values.
        keys_mask: optional `[B, S]`, 1 for real keys (a Keras mask on `keys` when not given).
        projected_keys: optional, from `project_keys(keys)`.
        return_attention_scores: bool. Also return the weights `[B, T, S]`.

    Example:
    ```python
    class Cosine(SingleHeadAttention):
        def project_keys(self, keys):
            return keras.ops.normalize(keys, axis=-1)

        def scores(self, query, projected_keys):
            return keras.ops.matmul(keras.ops.normalize(query, axis=-1), keras.ops.swapaxes(projected_keys, 1, 2))
    ```
    """

    def project_keys(self, keys):
        raise NotImplementedError(f"{type(self).__name__} must define project_keys(keys).")

    def scores(self, query, projected_keys):
        raise NotImplementedError(f"{type(self).__name__} must define scores(query, projected_keys).")

    def attend(self, query, keys, keys_mask=None, projected_keys=None):
        """(context, weights) without recording them: for callers that run this inside a loop and record once."""
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        scores = self.scores(query, projected_keys)  # float32 [B, T, S]
        if keys_mask is not None:
            scores = mask_scores(scores, ops.expand_dims(ops.cast(keys_mask, "float32"), 1))
        weights = ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)
        return ops.matmul(weights, ops.cast(keys, self.compute_dtype)), weights

    def call(self, query, keys, keys_mask=None, projected_keys=None, return_attention_scores=False):
        if keys_mask is None:
            keys_mask = getattr(keys, "_keras_mask", None)
        context, weights = self.attend(query, keys, keys_mask, projected_keys)
        attention_recording.record(self, weights)
        return (context, weights) if return_attention_scores else context

    def compute_output_spec(self, query, keys, keys_mask=None, projected_keys=None, return_attention_scores=False):
        context = keras.KerasTensor(query.shape[:-1] + (keys.shape[-1],), dtype=self.compute_dtype)
        if return_attention_scores:
            return context, keras.KerasTensor(query.shape[:-1] + (keys.shape[1],), dtype=self.compute_dtype)
        return context
