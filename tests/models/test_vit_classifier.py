import numpy as np
import pytest

from kzoo.models import ViTBackbone, ViTClassifier
from tests.models.harness import check_model


def _model():
    return ViTClassifier(
        ViTBackbone(image_shape=(8, 8, 1), patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32),
        num_classes=4,
    )


def _inputs(batch, length):
    return {"images": np.random.default_rng(batch).normal(size=(batch, 8, 8, 1)).astype("float32")}


def test_generic(tmp_path):
    check_model(_model, _inputs, lambda inputs, model: np.arange(len(inputs["images"])) % 4, tmp_path, variable_length=False)


def test_image_shape_must_have_three_sides():
    with pytest.raises(ValueError, match="image_shape"):
        ViTBackbone(image_shape=(8, 8), patch_size=4, num_layers=1, num_heads=1, hidden_dim=4, intermediate_dim=4)
