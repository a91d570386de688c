"""BERT checkpoints (sequence and token classification, masked LM, a TensorFlow `tf_model.h5`) against transformers."""

import numpy as np
import pytest

from tests.checkpoints.conftest import LOGIT_TOLERANCE, fixture


def _inputs(arrays):
    return {"token_ids": arrays["input_ids"].astype("int32"), "segment_ids": arrays["token_type_ids"].astype("int32"),
            "padding_mask": arrays["attention_mask"].astype("int32")}


@pytest.mark.parametrize("name, family, per_token", [
    ("bert_classifier", "TextClassifier", False),
    ("bert_classifier_h5", "TextClassifier", False),
    ("bert_tagger", "TokenTagger", True),
    ("bert_mlm", "MaskedLM", True),
])
def test_logits_match_transformers(imported, name, family, per_token):
    _, _, arrays = fixture(name)
    checkpoint = imported(name)
    assert type(checkpoint.model).__name__ == checkpoint.family == family
    assert checkpoint.unused_tensors == []
    logits = np.asarray(checkpoint.model(_inputs(arrays), training=False))
    difference = np.abs(logits - arrays["logits"])
    real = arrays["attention_mask"].astype(bool)
    assert (difference[real] if per_token else difference).max() < LOGIT_TOLERANCE


def test_the_backbone_outputs_match_bert_model(imported):
    _, _, arrays = fixture("bert_classifier")
    outputs = imported("bert_classifier").model.backbone(_inputs(arrays), training=False)
    real = arrays["attention_mask"].astype(bool)
    assert np.abs(np.asarray(outputs["sequence_output"]) - arrays["last_hidden_state"])[real].max() < LOGIT_TOLERANCE
    assert np.abs(np.asarray(outputs["pooled_output"]) - arrays["pooler_output"]).max() < LOGIT_TOLERANCE


def test_labels_heads_and_missing_layers_are_reported(imported):
    _, reference, arrays = fixture("bert_classifier")
    classifier = imported("bert_classifier")
    assert classifier.label_names == ["sports", "food", "weather"]
    predicted = np.asarray(classifier.model(_inputs(arrays))).argmax(-1)
    assert [classifier.label_names[i] for i in predicted] == reference["predicted_labels"]
    tagger = imported("bert_tagger")
    assert tagger.label_names == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"] and tagger.task_kind == "tagging"
    assert tagger.initialized_layers == ["pooler"]  # No pooler in a token-classification checkpoint.
    assert imported("bert_mlm").task_kind == "masked_lm"


@pytest.mark.parametrize("name", ["bert_classifier", "bert_classifier_h5"])
def test_wordpiece_ids_match_the_checkpoint_tokenizer(imported, name):
    _, reference, arrays = fixture("bert_classifier")
    tokenizer = imported(name).tokenizer
    assert tokenizer.special_ids == {"pad": 0, "unknown": 1, "start": 2, "end": 3, "mask": 4}
    for example in reference["tokenizer_examples"]:
        assert [tokenizer.start_id] + tokenizer.encode([example["text"]])[0] + [tokenizer.end_id] == example["input_ids"]
        assert tokenizer.decode(example["input_ids"]) == example["decoded_skip_special"]
    for row, text in enumerate(reference["texts"]):
        if reference["text_pairs"][row] is None:
            expected = arrays["input_ids"][row][arrays["attention_mask"][row] == 1].tolist()
            assert [2] + tokenizer.encode([text])[0] + [3] == expected
