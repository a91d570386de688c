"""Masked-language-model pre-training head on top of an `EncoderBackbone`."""

import keras

from kzoo.layers.output_bias import OutputBias
from kzoo.layers.utils import activation_function
from kzoo.models.export_description import ExportDescription
from kzoo.models.serialization import backbone_from_config, set_dtype_policy, task_config


@keras.saving.register_keras_serializable(package="kzoo")
class MaskedLM(keras.Model):
    """BERT's MLM head: dense + GELU + layer norm, then the tied token embedding.

    Predicts every position: logits `[B, T, V]` (float32). The loss counts only the
    masked positions through sample weights (`kzoo.data` MLM pipelines: 15% of
    tokens, 80% [MASK] / 10% random / 10% kept).

    Args:
        backbone: `EncoderBackbone`.

    Example:
    ```python
    mlm = MaskedLM(backbone)
    logits = mlm({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})   # [B, T, V]
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """

    task_kinds = ("masked_lm",)

    def __init__(self, backbone, **kwargs):
        dtype = backbone.dtype_policy
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        transform = keras.layers.Dense(
            backbone.hidden_dim, activation=activation_function("gelu"), dtype=dtype, name="mlm_transform"
        )
        norm = keras.layers.LayerNormalization(epsilon=backbone.layer_norm_epsilon, dtype=dtype, name="mlm_norm")
        hidden = norm(transform(sequence))
        output_bias = OutputBias(backbone.vocabulary_size, dtype=dtype, name="mlm_output_bias")
        logits = output_bias(backbone.token_embedding(hidden, reverse=True))
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)
        set_dtype_policy(self, backbone.dtype_policy)
        self.backbone = backbone

    def export_description(self, max_length=None):
        """One `serving_default` graph (see `kzoo.models.ExportDescription`); `max_length` is unused."""
        return ExportDescription.for_forward_pass(self)

    def get_config(self):
        return task_config(self)

    @classmethod
    def from_config(cls, config):
        return cls(**backbone_from_config(config))
