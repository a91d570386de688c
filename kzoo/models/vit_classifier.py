"""Image classification with a `ViTBackbone`."""

import keras

from kzoo.models.export_description import ExportDescription
from kzoo.models.serialization import backbone_from_config, set_dtype_policy, task_config
from kzoo.runtime.validation import check_positive_int


@keras.saving.register_keras_serializable(package="kzoo")
class ViTClassifier(keras.Model):
    """A dense layer on the class token: logits `[B, num_classes]` (float32).

    Args:
        backbone: `ViTBackbone`.
        num_classes: int.

    Example:
    ```python
    classifier = ViTClassifier(backbone, num_classes=10)
    logits = classifier({"images": images})
    ```
    """

    task_kinds = ("image_classification",)

    def __init__(self, backbone, num_classes, **kwargs):
        check_positive_int("num_classes", num_classes)
        inputs = dict(backbone.input)
        sequence = backbone(inputs)
        logits = keras.layers.Dense(num_classes, dtype=backbone.dtype_policy, name="classifier")(sequence[:, 0, :])
        logits = keras.layers.Activation("linear", dtype="float32", name="logits")(logits)
        super().__init__(inputs=inputs, outputs=logits, dtype=backbone.dtype_policy, **kwargs)
        set_dtype_policy(self, backbone.dtype_policy)
        self.backbone = backbone
        self.num_classes = num_classes

    def export_description(self, max_length=None):
        """One `serving_default` graph (see `kzoo.models.ExportDescription`); `max_length` is unused."""
        return ExportDescription.for_forward_pass(self)

    def get_config(self):
        return task_config(self, "num_classes")

    @classmethod
    def from_config(cls, config):
        return cls(**backbone_from_config(config))
