"""Sequence classification on top of an `EncoderBackbone`."""

import keras

from kzoo.models.export_description import ExportDescription
from kzoo.models.serialization import backbone_from_config, set_dtype_policy, task_config
from kzoo.runtime.validation import check_choice, check_positive_int, check_rate

POOLINGS = ("cls", "mean")


@keras.saving.register_keras_serializable(package="kzoo")
class TextClassifier(keras.Model):
    """Dropout and a dense layer on a pooled backbone output: logits `[B, num_classes]`.

    Inputs are the backbone's (`token_ids`, `segment_ids`, `padding_mask`); the
    output `logits` is float32 even under mixed precision, so the loss is stable.

    `pooling="cls"` reads the backbone's `pooled_output` (BERT's tanh pooler
    on the first token). `pooling="mean"` averages `sequence_output` over the
    real tokens: the pooler is trained by no masked-LM objective, so on a
    backbone pre-trained with MLM alone the mean of the token states is the
    representation that carries what pre-training learned.

    Args:
        backbone: `EncoderBackbone`.
        num_classes: int.
        dropout: float. Defaults to 0.1.
        pooling: `"cls"` or `"mean"`. Defaults to `"cls"`.

    Example:
    ```python
    backbone = EncoderBackbone(vocabulary_size=100, num_layers=1, num_heads=2,
                               hidden_dim=16, intermediate_dim=32, max_sequence_length=8)
    classifier = TextClassifier(backbone, num_classes=3)
    classifier.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ```
    """

    task_kinds = ("classification",)

    def __init__(self, backbone, num_classes, dropout=0.1, pooling="cls", **kwargs):
        check_positive_int("num_classes", num_classes)
        check_rate("dropout", dropout)
        check_choice("pooling", pooling, POOLINGS)
        dtype = backbone.dtype_policy
        inputs = dict(backbone.input)
        outputs = backbone(inputs)
        if pooling == "mean":
            real = keras.ops.not_equal(inputs["padding_mask"], 0)
            average = keras.layers.GlobalAveragePooling1D(dtype=dtype, name="mean_pooling")
            pooled = average(outputs["sequence_output"], mask=real)
        else:
            pooled = outputs["pooled_output"]
        pooled = keras.layers.Dropout(dropout, dtype=dtype, name="head_dropout")(pooled)
        logits = keras.layers.Dense(num_classes, dtype=dtype, name="classifier")(pooled)
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)
        set_dtype_policy(self, backbone.dtype_policy)
        self.backbone = backbone
        self.num_classes = num_classes
        self.dropout = dropout
        self.pooling = pooling

    def export_description(self, max_length=None):
        """One `serving_default` graph (see `kzoo.models.ExportDescription`); `max_length` is unused."""
        return ExportDescription.for_forward_pass(self)

    def get_config(self):
        return task_config(self, "num_classes", "dropout", "pooling")

    @classmethod
    def from_config(cls, config):
        return cls(**backbone_from_config(config))
