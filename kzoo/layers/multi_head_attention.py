"""Multi-head attention with fused projections and an exportable fixed-size KV cache.

Why not `keras.layers.MultiHeadAttention` or keras-hub's `CachedMultiHeadAttention`:
keras-hub writes its cache with `ops.slice_update`, which TensorFlow lowers to
`XlaDynamicUpdateSlice`; tf2onnx 1.17 rejects that op, so a cached decode step built
from keras-hub layers does not convert to ONNX. This layer writes the cache with a
one-hot placement matrix (a `MatMul`, a `Mul` and an `Add`), ops that TFLite builtins
and ONNX both have. It also projects Q, K and V with one matmul instead of three,
which is where most of its training-speed gain comes from (see
`benchmarks/layers.py`).
"""

import math

import keras
import numpy as np
from keras import ops
from keras_hub.layers import RotaryEmbedding

from kzoo.layers import attention_recording
from kzoo.layers.utils import clone_initializer, mask_scores
from kzoo.runtime.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention with an optional KV cache.

    Implements the attention of Vaswani et al. (2017). For self-attention (called
    without `value`) Q, K and V come from one fused projection; for cross-attention
    (called with `value`) the query has its own projection and K, V share one.

    Masks: `query_mask` `[B, T]`, `value_mask` `[B, S]` (a Keras mask on `query` or
    `value` is used when these are not given), `attention_mask` `[B, T, S]` and
    `use_causal_mask` are combined with a logical AND. Masked scores drop to 30 below
    the row's lowest score (`kzoo.layers.utils.mask_scores`: a -1e9 constant breaks
    full-int8 TFLite) before a float32 softmax, so under mixed precision the softmax
    never runs in 16 bits.

    The cache has a fixed shape `[B, 2, num_heads, S_max, key_dim]` (keys, then
    values; heads before positions so attention reads it without a transpose).
    Self-attention attends over the cache's positions `< cache_index` and the T new
    keys (with `use_causal_mask`, new key `t'` only from query row `t >= t'`), read
    where they lie, then writes the new keys and values at `cache_index` (or, with
    `write_cache=False`, returns them for the caller to write). `cache_index` is one
    position for the whole batch (a scalar) or one per row (`[B]`): rows at
    different lengths decode in one call. Cross-attention reads a cache computed
    once by `compute_key_value_cache(value)` and never writes it.

    Args:
        num_heads: int. Number of attention heads.
        key_dim: int. Size of each head for queries, keys and values.
        output_dim: int or None. Width of the output; defaults to the query width.
        dropout: float in [0, 1). Dropout on the attention probabilities. Defaults
            to 0.
        use_bias: bool. Whether the projections have biases. Defaults to True.
        kernel_initializer: initializer for the projection kernels. Defaults to
            "glorot_uniform".
        bias_initializer: initializer for the biases. Defaults to "zeros".
        rotary_max_wavelength: int or None. Self-attention only: rotate queries
            and keys by their absolute positions (rotary position embedding, Su
            et al. 2021, through keras-hub's `RotaryEmbedding`) with this longest
            wavelength, e.g. 10000. Keys are rotated before they enter the cache,
            so a cached step rotates only its new rows, at `cache_index`.
            Defaults to None (no rotation).
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Example:
    ```python
    import numpy as np
    attention = MultiHeadAttention(num_heads=2, key_dim=8)
    x = np.random.rand(3, 5, 16).astype("float32")
    y = attention(x, use_causal_mask=True)               # [3, 5, 16]
    cache = np.zeros((3, 2, 2, 5, 8), "float32")
    y0, cache = attention(x[:, :1], cache=cache, cache_index=0, use_causal_mask=True)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        output_dim=None,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        rotary_max_wavelength=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.rotary_max_wavelength = check_positive_int("rotary_max_wavelength", rotary_max_wavelength, allow_none=True)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.output_dim = None if output_dim is None else check_positive_int("output_dim", output_dim)
        self.dropout = check_rate("dropout", dropout)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True
        self.is_cross_attention = None  # Set by build().

    def _dense(self, units, name):
        return keras.layers.Dense(
            units,
            use_bias=self.use_bias,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, query_shape, value_shape=None):
        width = query_shape[-1]
        heads_width = self.num_heads * self.key_dim
        self.is_cross_attention = value_shape is not None
        if self.is_cross_attention:
            self.query_dense = self._dense(heads_width, "query")
            self.query_dense.build(query_shape)
            self.key_value_dense = self._dense(2 * heads_width, "key_value")
            self.key_value_dense.build(value_shape)
        else:
            self.query_key_value_dense = self._dense(3 * heads_width, "query_key_value")
            self.query_key_value_dense.build(query_shape)
        if self.rotary_max_wavelength is not None:
            if self.is_cross_attention:
                raise ValueError(f"Layer {self.name}: rotary positions are for self-attention; build the "
                                 "cross-attention layer without `rotary_max_wavelength`.")
            # Heads are laid out [B, H, T, K]: positions on axis 2.
            self.rotary_embedding = RotaryEmbedding(self.rotary_max_wavelength, sequence_axis=2, feature_axis=-1,
                                                    dtype=self.dtype_policy, name="rotary_embedding")
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="dropout")
        self.output_dense = self._dense(self.output_dim or width, "output")
        self.output_dense.build(tuple(query_shape[:-1]) + (heads_width,))
        self.built = True

    def _split_heads(self, x, parts, length):
        """[B, T, parts * H * K] -> `parts` tensors of [B, H, T, K].

        `length` (T) is read from the layer's input, not from the projection: tf2onnx
        folds a Dense's Tensordot reshapes away and a Shape taken of the projection
        then sees the 2-D `[B * T, ...]` matmul output (an invalid ONNX Reshape).
        """
        x = ops.reshape(x, (-1, length, parts, self.num_heads, self.key_dim))  # [B, T, P, H, K]
        x = ops.transpose(x, (2, 0, 3, 1, 4))  # [P, B, H, T, K]
        # Unstack, not x[i]: the gradient of each x[i] is a StridedSliceGrad writing a
        # zero-filled [P, B, H, T, K] tensor, then an AddN (about 15% of a training step).
        return ops.unstack(x, num=parts, axis=0)  # P x [B, H, T, K]

    def compute_key_value_cache(self, value):
        """Project a cross-attention `value` `[B, S, D]` once into a cache `[B, 2, H, S, K]`."""
        if not self.is_cross_attention:
            raise ValueError(
                "`compute_key_value_cache` is for cross-attention layers; this layer "
                f"({self.name}) was built for self-attention."
            )
        key, value = self._split_heads(self.key_value_dense(value), 2, ops.shape(value)[1])
        return ops.stack([key, value], axis=1)

    def call(
        self,
        query,
        value=None,
        query_mask=None,
        value_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        cache=None,
        cache_index=None,
        write_cache=True,
        return_attention_scores=False,
        training=None,
    ):
        """Attend from `query` `[B, T, D]` to `value` `[B, S, D_v]` (or to itself).

        Returns `[B, T, output_dim]`; with a self-attention `cache` also the updated
        cache `[B, 2, H, S_max, K]`, or with `write_cache=False` only the new keys
        and values `[B, 2, H, T, K]`, for a caller that writes them itself (a
        cross-attention cache is read only and not returned); with
        `return_attention_scores` also the attention probabilities `[B, H, T, S]`
        (always last; over a self-attention cache, `[B, H, T, S_max + T]`: the
        cache's positions, then the new ones).
        """
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None and value is not None:
            value_mask = getattr(value, "_keras_mask", None)
        if cache_index is not None and cache is None:
            raise ValueError(
                f"Received `cache_index={cache_index}` without a `cache`; pass the cache "
                "to update, or drop `cache_index`."
            )
        if self.is_cross_attention:
            if cache is not None and cache_index is not None:
                raise ValueError(
                    "A cross-attention cache is computed once and read only; received "
                    f"`cache_index={cache_index}`. Drop `cache_index`."
                )
            if cache is None and value is None:
                raise ValueError(
                    f"Cross-attention layer {self.name} needs `value` or a `cache` from "
                    "`compute_key_value_cache`; received neither."
                )
        elif value is not None:
            raise ValueError(
                f"Layer {self.name} was built for self-attention and cannot take a "
                "`value`; build a separate layer for cross-attention."
            )
        elif cache is not None and cache_index is None:
            raise ValueError(
                "A self-attention `cache` needs `cache_index`, the position where the "
                "new keys and values are written."
            )
        elif cache is not None and (value_mask is not None or attention_mask is not None):
            raise ValueError(
                "A self-attention `cache` says itself which positions hold keys (those before "
                "`cache_index`); drop `value_mask` and `attention_mask`."
            )

        if self.is_cross_attention:
            (query_heads,) = self._split_heads(self.query_dense(query), 1, ops.shape(query)[1])
            if cache is None:
                key, value_heads = self._split_heads(self.key_value_dense(value), 2, ops.shape(value)[1])
        else:
            query_heads, key, value_heads = self._split_heads(
                self.query_key_value_dense(query), 3, ops.shape(query)[1]
            )
            if self.rotary_max_wavelength is not None:
                start = 0 if cache_index is None else cache_index
                query_heads, key = self._rotate(query_heads, start), self._rotate(key, start)

        mask = self._combined_mask(
            query_length=ops.shape(query)[1],
            key_length=ops.shape(cache)[3] if cache is not None else ops.shape(key)[2],
            query_mask=query_mask,
            value_mask=value_mask,
            attention_mask=attention_mask,
            use_causal_mask=use_causal_mask,
            cache_index=None if self.is_cross_attention else cache_index,
        )
        new = None
        if cache is not None and not self.is_cross_attention:
            new = ops.stack([key, value_heads], axis=1)  # [B, 2, H, T, K]
        if cache is None:
            output, probabilities = self._attend(query_heads, key, value_heads, mask, training)
        else:
            output, probabilities = self._attend_cache(query_heads, cache, mask, training, new)
        outputs = [output]
        if new is not None:
            outputs.append(self._write_cache(cache, key, value_heads, cache_index) if write_cache else new)
        if return_attention_scores:
            outputs.append(probabilities)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def _rotate(self, heads, start_index):
        """`heads` `[B, H, T, K]` rotated for positions `start_index..` (a scalar, or `[B]`: a position per row).

        keras-hub's `RotaryEmbedding` turns `[B, T]` positions into angles with an
        Einsum that TFLite's builtins lack when B is dynamic, so a per-row start
        folds the batch into the sequence axis: `[1, H, B T, K]` at positions `[1, B T]`.
        """
        if len(getattr(start_index, "shape", ())) != 1:
            return self.rotary_embedding(heads, start_index=start_index)
        shape = ops.shape(heads)
        folded = ops.reshape(ops.transpose(heads, (1, 0, 2, 3)), (1, shape[1], -1, shape[3]))  # [1, H, B T, K]
        positions = ops.expand_dims(ops.cast(start_index, "int32"), 1) + ops.expand_dims(ops.arange(shape[2], dtype="int32"), 0)
        rotated = self.rotary_embedding(folded, positions=ops.reshape(positions, (1, -1)))
        return ops.transpose(ops.reshape(rotated, (shape[1], shape[0], shape[2], shape[3])), (1, 0, 2, 3))

    def _write_cache(self, cache, key, value, cache_index):
        """Write `key`, `value` `[B, H, T, K]` into `cache` `[B, 2, H, S, K]` at `cache_index` (scalar or `[B]`).

        A one-hot placement matrix `[B or 1, S, T]` moves row t to position
        cache_index + t: one MatMul instead of a dynamic-update-slice (or a scatter,
        for a position per row), so TFLite builtins and ONNX both run it.
        """
        cache_length = ops.shape(cache)[3]
        new_length = ops.shape(key)[2]
        positions = ops.reshape(ops.arange(cache_length, dtype="int32"), (1, -1, 1))  # [1, S, 1]
        targets = ops.reshape(ops.cast(cache_index, "int32"), (-1, 1, 1)) + ops.reshape(
            ops.arange(new_length, dtype="int32"), (1, 1, -1)
        )  # [B or 1, 1, T]
        placement = ops.cast(ops.equal(positions, targets), cache.dtype)  # [B or 1, S, T]
        keep = 1.0 - ops.sum(placement, axis=2)  # [B or 1, S]
        new = ops.stack([key, value], axis=1)  # [B, 2, H, T, K]
        placement = ops.expand_dims(ops.expand_dims(placement, 1), 1)  # [B or 1, 1, 1, S, T]
        placed = ops.matmul(placement, ops.cast(new, cache.dtype))  # [B, 2, H, S, K]
        keep = ops.expand_dims(ops.expand_dims(ops.expand_dims(keep, 1), 1), 4)  # [B or 1, 1, 1, S, 1]
        return cache * keep + placed

    def _combined_mask(
        self, query_length, key_length, query_mask, value_mask, attention_mask, use_causal_mask, cache_index
    ):
        """Product of every mask source as float32 1/0, broadcastable to [B, T, S], or None.

        Masks are combined as floats with `expand_dims`, not as bools with `[:, None]`:
        a strided slice on a bool tensor needs a Select TF op in TFLite.
        """
        mask = None

        def combine(current, new):
            return new if current is None else current * new

        if query_mask is not None:
            mask = combine(mask, ops.expand_dims(ops.cast(query_mask, "float32"), 2))  # [B, T, 1]
        if value_mask is not None:
            mask = combine(mask, ops.expand_dims(ops.cast(value_mask, "float32"), 1))  # [B, 1, S]
        if attention_mask is not None:
            mask = combine(mask, ops.cast(attention_mask, "float32"))  # [B, T, S]
        if cache_index is not None:
            # Over a cache: its positions before each row's start, then the T new ones (causally, if asked).
            start = ops.reshape(ops.cast(cache_index, "int32"), (-1, 1, 1))  # [B or 1, 1, 1]
            columns = ops.reshape(ops.arange(key_length, dtype="int32"), (1, 1, -1))  # [1, 1, S]
            written = ops.cast(ops.less(columns, start), "float32")  # [B or 1, 1, S]
            rows = ops.reshape(ops.arange(query_length, dtype="int32"), (-1, 1))  # [T, 1]
            new_columns = ops.reshape(ops.arange(query_length, dtype="int32"), (1, -1))  # [1, T]
            new = ops.less_equal(new_columns, rows) if use_causal_mask else ops.ones_like(ops.less(new_columns, rows))
            new = ops.expand_dims(ops.cast(new, "float32"), 0)  # [1, T, T]
            shape = (ops.shape(written)[0], query_length)
            visible = ops.concatenate([ops.broadcast_to(written, (*shape, key_length)),
                                       ops.broadcast_to(new, (*shape, query_length))], axis=-1)  # [B or 1, T, S + T]
            mask = combine(mask, visible)
        elif use_causal_mask:
            rows = ops.reshape(ops.arange(query_length, dtype="int32"), (1, -1, 1))  # [1, T, 1]
            columns = ops.reshape(ops.arange(key_length, dtype="int32"), (1, 1, -1))  # [1, 1, S]
            mask = combine(mask, ops.cast(ops.less_equal(columns, rows), "float32"))  # [1, T, S]
        return mask

    def _attend(self, query, key, value, mask, training):
        """query [B, H, T, K], key/value [B, H, S, K] -> output [B, T, D], probs [B, H, T, S]."""
        query = query * ops.cast(1.0 / math.sqrt(self.key_dim), query.dtype)
        scores = ops.matmul(query, ops.transpose(ops.cast(key, query.dtype), (0, 1, 3, 2)))  # [B, H, T, S]
        scores = ops.cast(scores, "float32")
        if mask is not None:
            scores = mask_scores(scores, ops.expand_dims(mask, 1))  # mask [B, 1, T, S]
        probabilities = ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)
        attention_recording.record(self, probabilities)
        dropped = self.dropout_layer(probabilities, training=training)
        context = ops.matmul(dropped, ops.cast(value, self.compute_dtype))  # [B, H, T, K]
        context = ops.transpose(context, (0, 2, 1, 3))  # [B, T, H, K]
        context = ops.reshape(context, (-1, ops.shape(query)[2], self.num_heads * self.key_dim))  # [B, T, H*K]
        return self.output_dense(context), probabilities

    def _attend_cache(self, query, cache, mask, training, new=None):
        """query [B, H, T, K] over `cache` [B, 2, H, S, K] (keys, then values), and over `new` [B, 2, H, T, K] when given.

        The cache is read where it lies: one matmul of the query with both its halves
        (the values' scores are thrown away; at T=1 that costs little), so neither
        half is sliced into a copy, and nothing is written here. Returns output
        [B, T, D] and probabilities [B, H, T, S (+ T)].
        """
        query = ops.expand_dims(query * ops.cast(1.0 / math.sqrt(self.key_dim), query.dtype), 1)  # [B, 1, H, T, K]

        def scores_over(stacked):
            both = ops.matmul(query, ops.transpose(ops.cast(stacked, query.dtype), (0, 1, 2, 4, 3)))  # [B, 2, H, T, S]
            return both[:, 0]

        scores = scores_over(cache)
        if new is not None:
            scores = ops.concatenate([scores, scores_over(new)], axis=-1)  # [B, H, T, S + T]
        scores = ops.cast(scores, "float32")
        if mask is not None:
            scores = mask_scores(scores, ops.expand_dims(mask, 1))
        probabilities = ops.cast(ops.softmax(scores, axis=-1), self.compute_dtype)
        attention_recording.record(self, probabilities)
        dropped = ops.expand_dims(self.dropout_layer(probabilities, training=training), 1)  # [B, 1, H, T, S (+ T)]
        cache_length = ops.shape(cache)[3]

        def context_from(weights, stacked):
            return ops.matmul(weights, ops.cast(stacked, self.compute_dtype))[:, 1]  # [B, H, T, K]

        context = context_from(dropped[..., :cache_length], cache)
        if new is not None:
            context = context + context_from(dropped[..., cache_length:], new)
        context = ops.transpose(context, (0, 2, 1, 3))  # [B, T, H, K]
        context = ops.reshape(context, (-1, ops.shape(context)[1], self.num_heads * self.key_dim))  # [B, T, H*K]
        return self.output_dense(context), probabilities

    def load_keras_weights(self, reference):
        """Copy the weights of a built `keras.layers.MultiHeadAttention` into this layer.

        Keras keeps separate query/key/value kernels `[D, H, K]`; they are flattened
        and concatenated into the fused projections. Used to import keras-hub
        backbones (BERT, GPT-2, ViT), whose attention is Keras's.
        """
        if not self.built:
            raise ValueError(f"Build layer {self.name} (call it once) before loading weights into it.")
        use_bias = reference._use_bias
        if use_bias != self.use_bias:
            raise ValueError(
                f"Cannot load {reference.name}: use_bias={use_bias} there, use_bias={self.use_bias} here."
            )

        def flat(dense):
            kernel = dense.kernel.numpy()
            weights = [kernel.reshape(kernel.shape[0], -1)]
            if use_bias:
                weights.append(dense.bias.numpy().reshape(-1))
            return weights

        def concatenated(*denses):
            parts = [flat(dense) for dense in denses]
            return [np.concatenate([part[i] for part in parts], axis=-1) for i in range(len(parts[0]))]

        targets = []
        if self.is_cross_attention:
            targets.append((self.query_dense, flat(reference._query_dense)))
            targets.append((self.key_value_dense, concatenated(reference._key_dense, reference._value_dense)))
        else:
            fused = concatenated(reference._query_dense, reference._key_dense, reference._value_dense)
            targets.append((self.query_key_value_dense, fused))
        output = [reference._output_dense.kernel.numpy()]
        output[0] = output[0].reshape(-1, output[0].shape[-1])
        if use_bias:
            output.append(reference._output_dense.bias.numpy())
        targets.append((self.output_dense, output))
        for dense, weights in targets:
            for variable, value in zip(dense.weights, weights):
                if tuple(variable.shape) != value.shape:
                    raise ValueError(
                        f"Cannot load {reference.name} into {variable.path}: shape {value.shape} "
                        f"there, {tuple(variable.shape)} here."
                    )
                variable.assign(value)

    def compute_output_spec(
        self,
        query,
        value=None,
        query_mask=None,
        value_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        cache=None,
        cache_index=None,
        write_cache=True,
        return_attention_scores=False,
        training=None,
    ):
        width = self.output_dim or query.shape[-1]
        output = keras.KerasTensor(query.shape[:-1] + (width,), dtype=self.compute_dtype)
        outputs = [output]
        self_cache = cache is not None and not self.is_cross_attention
        if self_cache:
            shape = cache.shape if write_cache else cache.shape[:3] + (query.shape[1],) + cache.shape[4:]
            outputs.append(keras.KerasTensor(shape, dtype=cache.dtype))
        if return_attention_scores:
            key_length = cache.shape[3] if cache is not None else (value if value is not None else query).shape[1]
            if self_cache:
                key_length = None if key_length is None or query.shape[1] is None else key_length + query.shape[1]
            outputs.append(
                keras.KerasTensor((query.shape[0], self.num_heads, query.shape[1], key_length), self.compute_dtype)
            )
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "output_dim": self.output_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "rotary_max_wavelength": self.rotary_max_wavelength,
            }
        )
        return config
