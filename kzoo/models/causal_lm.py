"""GPT-style causal language model: a `DecoderBackbone` with tied output logits."""

import keras
from keras import ops

from kzoo.generation import generate
from kzoo.models.export_description import ExportDescription
from kzoo.models.serialization import backbone_from_config, set_dtype_policy, task_config


@keras.saving.register_keras_serializable(package="kzoo")
class CausalLM(keras.Model):
    """Next-token logits `[B, T, V]` (float32) from a `DecoderBackbone`, tied embeddings.

    Decoding interface shared by every generative kzoo model (see
    `kzoo.generation`): `start_decoding(inputs, max_length)` returns a dict of
    batch-major state tensors, and `decode_step(token_ids, state, index)` returns
    logits `[B, T, V]` for tokens at positions `index..` and the updated state. The
    step runs the same layers as the full forward pass (one code path).

    Args:
        backbone: `DecoderBackbone`.

    Example:
    ```python
    lm = CausalLM(DecoderBackbone(vocabulary_size=100, num_layers=2, num_heads=2,
                                  hidden_dim=32, intermediate_dim=64, max_sequence_length=32))
    state = lm.start_decoding({"token_ids": prompt}, max_length=32)
    logits, state = lm.decode_step(prompt[:, :1], state, index=0)
    ```
    """

    task_kinds = ("language_modeling",)

    def __init__(self, backbone, **kwargs):
        inputs = dict(backbone.input)
        sequence = backbone(inputs)
        logits = backbone.token_embedding(sequence, reverse=True)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, dtype=backbone.dtype_policy, **kwargs)
        set_dtype_policy(self, backbone.dtype_policy)
        self.backbone = backbone

    @property
    def max_sequence_length(self):
        return self.backbone.max_sequence_length

    @property
    def vocabulary_size(self):
        return self.backbone.vocabulary_size

    @property
    def decoded_vocabulary_size(self):
        """Size of the vocabulary the decoder reads and writes."""
        return self.backbone.vocabulary_size

    def start_decoding(self, inputs, max_length):
        """Empty KV caches for `inputs["token_ids"]`'s batch: `{"cache_<layer>": [B, 2, H, S, K]}`, one per layer."""
        batch_size = ops.shape(inputs["token_ids"])[0]
        dtype = self.backbone.compute_dtype
        shape = self.backbone.cache_shape(batch_size, max_length)
        return {name: ops.zeros(shape, dtype=dtype) for name in self.backbone.cache_names()}

    def decode_step(self, token_ids, state, index, write_cache=True):
        """token_ids [B, T] at positions index.. (a scalar, or [B]: a position per row) -> logits [B, T, V] (float32), new state.

        With `write_cache=False` the returned state holds each layer's new keys and
        values `[B, 2, H, T, K]` instead of the updated cache (see `ExportDescription.appended`).
        """
        hidden, caches = self.backbone.forward_with_cache(token_ids, state, index, write_cache=write_cache)
        logits = ops.cast(self.backbone.token_embedding(hidden, reverse=True), "float32")
        return logits, caches

    def export_description(self, max_length=None):
        """The forward pass and a `decode_step` over one `[B, 2, H, max_length, K]` cache per layer, which the runtime allocates."""
        max_length = max_length or self.max_sequence_length
        shape = list(self.backbone.cache_shape(-1, max_length))
        names = self.backbone.cache_names()
        return ExportDescription(
            task_kind=self.task_kinds[0],
            max_length=max_length,
            state={name: {"shape": shape, "dtype": "float32", "source": "zeros"} for name in names},
            appended=names,
            attention=(self.backbone.num_heads, self.backbone.hidden_dim),
        )

    def generate(self, inputs, max_new_tokens, **kwargs):
        """Decode with a KV cache; see `kzoo.generation.generate` for every option."""
        return generate(self, inputs, max_new_tokens, **kwargs)

    def get_config(self):
        return task_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**backbone_from_config(config))
