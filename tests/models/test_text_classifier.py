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


def test_mean_pooling_trains_round_trips_and_ignores_padded_positions(tmp_path):
    model = check_model(lambda: TextClassifier(backbone(), num_classes=3, dropout=0.0, pooling="mean"), inputs,
                        lambda batch, model: np.arange(len(batch["token_ids"])) % 3, tmp_path)
    assert model.get_config()["pooling"] == "mean"
    batch = inputs(2, 8)
    batch["padding_mask"][:, :5], batch["padding_mask"][:, 5:] = 1, 0
    changed = {name: value.copy() for name, value in batch.items()}
    changed["token_ids"][:, 5:] = 7  # Whatever sits under the padding ...
    np.testing.assert_allclose(model.predict(changed, verbose=0), model.predict(batch, verbose=0), atol=1e-6)
    changed["token_ids"][:, 2] = 9  # ... but a real token counts.
    assert np.abs(model.predict(changed, verbose=0) - model.predict(batch, verbose=0)).max() > 1e-6


def test_unknown_pooling_names_the_choices():
    with pytest.raises(ValueError, match="pooling"):
        TextClassifier(backbone(), num_classes=3, pooling="max")
