"""Per-token classification (named-entity tagging) on top of an `EncoderBackbone`."""

import keras

from kzoo.models.export_description import ExportDescription
from kzoo.models.serialization import backbone_from_config, set_dtype_policy, task_config
from kzoo.runtime.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="kzoo")
class TokenTagger(keras.Model):
    """Dropout and a dense layer on every position: logits `[B, T, num_tags]` (float32).

    Padded positions get logits too; the loss ignores them through sample weights
    (`kzoo.data` pipelines set weight 0 on padding and on non-first sub-tokens).

    Args:
        backbone: `EncoderBackbone`.
        num_tags: int.
        dropout: float. Defaults to 0.1.

    Example:
    ```python
    tagger = TokenTagger(backbone, num_tags=9)
    logits = tagger({"token_ids": ids, "segment_ids": segments, "padding_mask": mask})
    ```
    """

    task_kinds = ("tagging",)

    def __init__(self, backbone, num_tags, dropout=0.1, **kwargs):
        check_positive_int("num_tags", num_tags)
        check_rate("dropout", dropout)
        dtype = backbone.dtype_policy
        inputs = dict(backbone.input)
        sequence = backbone(inputs)["sequence_output"]
        sequence = keras.layers.Dropout(dropout, dtype=dtype, name="head_dropout")(sequence)
        logits = keras.layers.Dense(num_tags, dtype=dtype, name="tagger")(sequence)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)
        set_dtype_policy(self, backbone.dtype_policy)
        self.backbone = backbone
        self.num_tags = num_tags
        self.dropout = dropout

    def export_description(self, max_length=None):
        """One `serving_default` graph (see `kzoo.models.ExportDescription`); `max_length` is unused."""
        return ExportDescription.for_forward_pass(self)

    def get_config(self):
        return task_config(self, "num_tags", "dropout")

    @classmethod
    def from_config(cls, config):
        return cls(**backbone_from_config(config))
