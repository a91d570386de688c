import pytest

from kzoo.models import TokenTagger
from tests.models.encoders import backbone, inputs
from tests.models.harness import check_model


def test_generic(tmp_path):
    check_model(lambda: TokenTagger(backbone(), num_tags=5, dropout=0.0), inputs,
                lambda batch, model: batch["token_ids"] % 5, tmp_path)


def test_it_exports_one_tagging_graph():
    description = TokenTagger(backbone(), num_tags=5).export_description()
    assert description.task_kind == "tagging" and description.onnx_files == {"serving_default": "model.onnx"}


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match=r"expected a float in \[0, 1\)\. Received: dropout=1\.5"):
        TokenTagger(backbone(), num_tags=5, dropout=1.5)
