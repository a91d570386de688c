import numpy as np
import pytest

from kzoo.models import TextClassifier
from tests.models.encoders import backbone, inputs
from tests.models.harness import check_model


def test_generic(tmp_path):
    check_model(lambda: TextClassifier(backbone(), num_classes=3, dropout=0.0), inputs,
                lambda batch, model: np.arange(len(batch["token_ids"])) % 3, tmp_path)


def test_it_exports_one_classification_graph():
    description = TextClassifier(backbone(), num_classes=3).export_description()
    assert description.task_kind == "classification" and description.parts == ("serving_default",)
    assert description.attention == (2, 16) and not description.generative


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="num_classes=0"):
        TextClassifier(backbone(), num_classes=0)
