import numpy as np
import pytest

from kzoo.models import EncoderBackbone, MaskedLM, TextClassifier, TokenTagger
from tests.models.harness import check_model, random_ids, ragged_mask

VOCAB = 50


def _backbone(**overrides):
    args = dict(vocabulary_size=VOCAB, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32,
                max_sequence_length=16, dropout=0.0)
    return EncoderBackbone(**{**args, **overrides})


def _inputs(batch, length):
    return {
        "token_ids": random_ids(batch, length, VOCAB, seed=batch + length),
        "segment_ids": np.zeros((batch, length), "int32"),
        "padding_mask": ragged_mask(batch, length),
    }


def test_text_classifier(tmp_path):
    check_model(
        lambda: TextClassifier(_backbone(), num_classes=3, dropout=0.0),
        _inputs,
        lambda inputs, model: np.arange(len(inputs["token_ids"])) % 3,
        tmp_path,
    )


def test_token_tagger(tmp_path):
    check_model(
        lambda: TokenTagger(_backbone(), num_tags=5, dropout=0.0),
        _inputs,
        lambda inputs, model: inputs["token_ids"] % 5,
        tmp_path,
    )


def test_masked_lm(tmp_path):
    check_model(lambda: MaskedLM(_backbone()), _inputs, lambda inputs, model: inputs["token_ids"], tmp_path)


def test_padded_positions_cannot_change_real_outputs():
    backbone = _backbone()
    inputs = _inputs(2, 8)
    inputs["padding_mask"] = np.array([[1] * 5 + [0] * 3, [1] * 8], "int32")
    changed = dict(inputs, token_ids=inputs["token_ids"].copy())
    changed["token_ids"][0, 5:] = 7
    a, b = backbone.predict(inputs, verbose=0), backbone.predict(changed, verbose=0)
    np.testing.assert_allclose(a["sequence_output"][0, :5], b["sequence_output"][0, :5], atol=1e-5)
    np.testing.assert_allclose(a["pooled_output"], b["pooled_output"], atol=1e-5)


def test_outputs_are_named():
    outputs = _backbone().predict(_inputs(1, 4), verbose=0)
    assert set(outputs) == {"sequence_output", "pooled_output"}


def test_invalid_arguments_are_rejected():
    with pytest.raises(ValueError, match="num_classes=0"):
        TextClassifier(_backbone(), num_classes=0)
    with pytest.raises(ValueError, match="vocabulary_size=-1"):
        _backbone(vocabulary_size=-1)
