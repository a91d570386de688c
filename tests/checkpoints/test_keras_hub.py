"""Importing keras-hub BERT, GPT-2 and ViT backbones: same outputs, clear failures.

No downloads: every keras-hub backbone is built from a tiny config and given
random weights (norms and biases included, so every variable matters).
"""

import json

import keras
import keras_hub
import numpy as np
import pytest

from kzoo.models import (
    CausalLM,
    DecoderBackbone,
    EncoderBackbone,
    MaskedLM,
    TextClassifier,
    TokenTagger,
    ViTBackbone,
    ViTClassifier,
)
from kzoo.checkpoints.keras_hub import _WeightCopier, import_keras_hub, load_keras_hub_weights

BERT = dict(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, max_sequence_length=16)
GPT2 = dict(vocabulary_size=50, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, max_sequence_length=16)
VIT = dict(image_shape=(8, 8, 3), patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32)
SUPPORTED = (
    "kzoo imports only keras_hub.models.BertBackbone, keras_hub.models.GPT2Backbone, keras_hub.models.ViTBackbone"
)


def _randomized(backbone, seed=0):
    """Every weight random, so a variable mapped wrongly (or not at all) changes the outputs."""
    rng = np.random.default_rng(seed)
    for variable in backbone.weights:
        variable.assign(rng.normal(0.0, 0.3, size=variable.shape).astype(variable.dtype))
    return backbone


def _text_inputs(segments=True):
    rng = np.random.default_rng(1)
    padding = np.array([[1] * 10, [1] * 6 + [0] * 4, [1] * 3 + [0] * 7], "int32")
    inputs = {"token_ids": rng.integers(1, 50, size=(3, 10)).astype("int32") * padding, "padding_mask": padding}
    if segments:
        inputs["segment_ids"] = np.array([[0] * 5 + [1] * 5, [0] * 3 + [1] * 7, [0] * 10], "int32")
    return inputs


def _images():
    return np.random.default_rng(2).normal(size=(2, 8, 8, 3)).astype("float32")


def _outputs(model, name):
    """Outputs of a keras-hub or kzoo backbone of fixture `name`, as a dict of arrays."""
    if name == "hub_vit":  # keras-hub's ViT takes the image tensor, kzoo's a dict keyed by input name.
        inputs = _images() if isinstance(model, keras_hub.models.Backbone) else {"images": _images()}
    else:
        inputs = _text_inputs(segments=name == "hub_bert")
    outputs = model(inputs)
    return dict(outputs) if isinstance(outputs, dict) else {"sequence_output": outputs}


@pytest.fixture(scope="module")
def hub_bert():
    return _randomized(keras_hub.models.BertBackbone(**BERT))


@pytest.fixture(scope="module")
def hub_gpt2():
    return _randomized(keras_hub.models.GPT2Backbone(**GPT2))


@pytest.fixture(scope="module")
def hub_vit():
    return _randomized(keras_hub.models.ViTBackbone(**VIT))


@pytest.fixture(scope="module")
def bert(hub_bert):
    return import_keras_hub(hub_bert)


# --- identical outputs -------------------------------------------------------


def test_bert_gives_identical_sequence_and_pooled_outputs(hub_bert, bert):
    assert isinstance(bert, EncoderBackbone)
    assert (bert.activation, bert.layer_norm_epsilon, bert.num_segments) == ("gelu_approximate", 1e-12, 2)
    inputs = _text_inputs()
    expected, ours = hub_bert(inputs), bert(inputs)
    for output in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(ours[output], expected[output], atol=1e-5)
    assert np.abs(np.asarray(expected["pooled_output"])).max() > 0.1  # Not a trivially small output.


def test_gpt2_gives_identical_sequence_output(hub_gpt2):
    gpt2 = import_keras_hub(hub_gpt2)
    assert isinstance(gpt2, DecoderBackbone)
    assert (gpt2.activation, gpt2.layer_norm_epsilon) == ("gelu_approximate", 1e-5)
    inputs = _text_inputs(segments=False)
    np.testing.assert_allclose(gpt2(inputs), hub_gpt2(inputs), atol=1e-5)


def test_vit_gives_identical_sequence_output(hub_vit):
    vit = import_keras_hub(hub_vit)
    assert isinstance(vit, ViTBackbone)
    assert (vit.image_shape, vit.patch_size, vit.intermediate_dim) == ((8, 8, 3), 4, 32)
    images = _images()
    np.testing.assert_allclose(vit({"images": images}), hub_vit(images), atol=1e-5)


@pytest.mark.parametrize("name", ["hub_bert", "hub_gpt2", "hub_vit"])
def test_import_from_a_local_preset_folder(name, request, tmp_path):
    reference = request.getfixturevalue(name)
    folder = tmp_path / "preset"
    reference.save_to_preset(str(folder))
    imported = import_keras_hub(folder)  # A pathlib.Path works as well as a str.
    expected, ours = _outputs(reference, name), _outputs(imported, name)
    assert sorted(ours) == sorted(expected)
    for output in expected:
        np.testing.assert_allclose(ours[output], expected[output], atol=1e-5)


def test_a_preset_folder_goes_through_import_checkpoint_with_its_tokenizer(hub_bert, tmp_path):
    import kzoo

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"word{i}" for i in range(45)]
    folder = tmp_path / "preset"
    hub_bert.save_to_preset(str(folder))
    keras_hub.tokenizers.BertTokenizer(vocabulary=vocabulary, lowercase=True).save_to_preset(str(folder))
    imported = kzoo.import_checkpoint(folder)
    assert isinstance(imported.model, EncoderBackbone) and imported.architecture == "BertBackbone"
    expected, ours = _outputs(hub_bert, "hub_bert"), _outputs(imported.model, "hub_bert")
    np.testing.assert_allclose(ours["sequence_output"], expected["sequence_output"], atol=1e-5)
    text = "word3 Word17 word44 unknown"
    assert imported.tokenizer.encode([text])[0] == [8, 22, 49, 1]
    assert imported.tokenizer.special_ids == {"pad": 0, "unknown": 1, "start": 2, "end": 3, "mask": 4}


def test_causal_lm_logits_are_keras_hub_output_times_the_embedding(hub_gpt2):
    lm = import_keras_hub(hub_gpt2, task="causal_lm")
    assert isinstance(lm, CausalLM)
    inputs = _text_inputs(segments=False)
    expected = np.asarray(hub_gpt2(inputs)) @ np.asarray(hub_gpt2.token_embedding.embeddings).T
    np.testing.assert_allclose(lm(inputs), expected, atol=1e-5)


def test_imported_bert_text_classifier_fine_tunes(hub_bert):
    classifier = import_keras_hub(hub_bert, task="text_classifier", num_classes=3, dropout=0.0)
    assert isinstance(classifier, TextClassifier) and classifier.num_classes == 3
    pooler_before = np.asarray(classifier.backbone.pooler.kernel).copy()
    np.testing.assert_allclose(pooler_before, hub_bert.pooled_dense.kernel, atol=0)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # Tracing would take most of this test's time; graph fit is tested in the family tests.
    )
    history = classifier.fit(_text_inputs(), np.array([0, 1, 2]), epochs=1, batch_size=3, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(classifier.backbone.pooler.kernel, pooler_before)  # The backbone was trained too.


@pytest.mark.parametrize(
    "task, arguments, cls, shape",
    [
        ("token_tagger", dict(num_tags=5), TokenTagger, (3, 10, 5)),
        ("masked_lm", {}, MaskedLM, (3, 10, 50)),
    ],
)
def test_other_bert_tasks_wrap_the_imported_backbone(hub_bert, task, arguments, cls, shape):
    model = import_keras_hub(hub_bert, task=task, **arguments)
    assert isinstance(model, cls)
    assert model(_text_inputs()).shape == shape
    np.testing.assert_allclose(model.backbone.token_embedding.embeddings, hub_bert.token_embedding.embeddings, atol=0)


def test_vit_classifier_task(hub_vit):
    classifier = import_keras_hub(hub_vit, task="vit_classifier", num_classes=4)
    assert isinstance(classifier, ViTClassifier)
    assert classifier({"images": _images()}).shape == (2, 4)


# --- failures ----------------------------------------------------------------


def test_unsupported_backbone_class_is_named():
    distil = keras_hub.models.DistilBertBackbone(
        vocabulary_size=50, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=32, max_sequence_length=16
    )
    with pytest.raises(ValueError, match=f"Cannot import a keras-hub DistilBertBackbone: {SUPPORTED}"):
        import_keras_hub(distil)


def test_unsupported_class_in_a_preset_folder_is_named_before_loading(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"class_name": "RobertaBackbone", "registered_name": "keras_hub>RobertaBackbone", "config": {}})
    )
    with pytest.raises(ValueError, match=f"Cannot import a keras-hub RobertaBackbone: {SUPPORTED}"):
        import_keras_hub(str(tmp_path))


def test_keras_hub_task_asks_for_its_backbone(hub_bert):
    task = keras_hub.models.BertTextClassifier(backbone=hub_bert, num_classes=2, preprocessor=None)
    with pytest.raises(ValueError, match=r"keras-hub task \(BertTextClassifier\); pass its backbone"):
        import_keras_hub(task)


@pytest.mark.parametrize(
    "handle, what",
    [
        ("kaggle://keras/bert/keras/bert_tiny_en_uncased/2", "is a remote handle"),
        ("hf://google-bert/bert-base-uncased", "is a remote handle"),
        ("bert_tiny_en_uncased", "is a keras-hub preset name, not a local folder"),
    ],
)
def test_remote_handles_and_preset_names_are_refused(handle, what):
    with pytest.raises(ValueError, match=f"{what}.*kzoo only imports local folders"):
        import_keras_hub(handle)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No keras-hub preset folder at '.*nowhere'"):
        import_keras_hub(str(tmp_path / "nowhere"))


def test_folder_without_config_and_wrong_source_type(tmp_path):
    with pytest.raises(ValueError, match="is not a keras-hub preset folder: it has no config.json"):
        import_keras_hub(str(tmp_path))
    with pytest.raises(ValueError, match="invalid value for argument `source`.*Received: source=42"):
        import_keras_hub(42)


def test_shape_mismatch_names_the_variable(hub_bert):
    target = EncoderBackbone(**{**BERT, "intermediate_dim": 24})
    with pytest.raises(
        ValueError,
        match=r"Cannot load transformer_layer_0/feedforward_intermediate_dense/kernel into "
        r"encoder_block_0/feed_forward/intermediate_dense/kernel: shape \(16, 32\) there, \(16, 24\) here",
    ):
        load_keras_hub_weights(target, hub_bert)


def test_vit_position_shape_mismatch_names_the_variable(hub_vit):
    target = ViTBackbone(
        image_shape=(12, 12, 3), patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32
    )
    with pytest.raises(
        ValueError,
        match=r"Cannot load vit_patching_and_embedding/position_embedding/embeddings into "
        r"patch_embedding/position_embeddings: shape \(5, 16\) there, \(1, 10, 16\) here",
    ):
        load_keras_hub_weights(target, hub_vit)


def test_layer_count_mismatch_and_unmapped_weights_are_named(hub_gpt2):
    with pytest.raises(ValueError, match=r"Cannot load 2 keras-hub layers into 3 kzoo blocks \(num_layers\)"):
        load_keras_hub_weights(DecoderBackbone(**{**GPT2, "num_layers": 3}), hub_gpt2)
    target = DecoderBackbone(**GPT2)
    with pytest.raises(ValueError, match="Import incomplete: no mapping for these weights of .*token_embedding/emb"):
        _WeightCopier(target, hub_gpt2).finish()
    with pytest.raises(ValueError, match="Cannot load a keras-hub GPT2Backbone into EncoderBackbone; it maps to Deco"):
        load_keras_hub_weights(EncoderBackbone(**BERT), hub_gpt2)


@pytest.mark.parametrize(
    "option, message",
    [
        (dict(use_class_token=False), "use_class_token=False: kzoo's ViTBackbone always prepends a class token"),
        (dict(use_mha_bias=False), "use_mha_bias=False: kzoo's ViT attention always has biases"),
        (dict(dropout_rate=0.1), "dropout_rate=0.1 and attention_dropout=0.0.*choose it with `backbone_dropout=`"),
    ],
)
def test_vit_options_without_a_kzoo_equivalent_are_named(option, message):
    reference = keras_hub.models.ViTBackbone(**{**VIT, **option})
    with pytest.raises(ValueError, match=message):
        import_keras_hub(reference)


def test_vit_dropout_choice_imports(hub_vit):
    assert import_keras_hub(hub_vit, backbone_dropout=0.1).dropout == 0.1


def test_task_errors(hub_gpt2, hub_bert):
    with pytest.raises(ValueError, match=r"one of causal_lm for a keras-hub GPT2Backbone. Received: task='text_clas"):
        import_keras_hub(hub_gpt2, task="text_classifier")
    with pytest.raises(ValueError, match="Received task arguments num_classes without a `task`"):
        import_keras_hub(hub_bert, num_classes=3)
    with pytest.raises(ValueError, match=r"Task 'text_classifier' \(TextClassifier\) needs num_classes"):
        import_keras_hub(hub_bert, task="text_classifier")
    with pytest.raises(ValueError, match=r"\(TextClassifier\) does not take num_class; its arguments: num_classes, dr"):
        import_keras_hub(hub_bert, task="text_classifier", num_class=3)
