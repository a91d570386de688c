import keras
import numpy as np
import pytest

import kzoo
from kzoo.models import GRUSeq2Seq
from kzoo.models.gru_seq2seq import ATTENTIONS
from tests.models.harness import check_cached_steps_equal_full_forward, check_model, random_ids, ragged_mask

VOCAB = 40


def _model(**overrides):
    return GRUSeq2Seq(**{**dict(vocabulary_size=VOCAB, embedding_dim=12, hidden_dim=16, dropout=0.0), **overrides})


def _inputs(batch, length):
    return {
        "encoder_token_ids": random_ids(batch, length + 1, VOCAB, seed=length),
        "encoder_padding_mask": ragged_mask(batch, length + 1),
        "decoder_token_ids": random_ids(batch, length, VOCAB, seed=length + 1),
        "decoder_padding_mask": np.ones((batch, length), "int32"),
    }


# Luong's general and dot scores share the concat wiring's code path; their save / load and config
# round trip are checked by the export test below (it reloads the bundle's model.keras).
@pytest.mark.parametrize("attention", ["luong_concat", "bahdanau", "none"])
def test_generic(tmp_path, attention):
    check_model(lambda **options: _model(attention=attention, **options), _inputs,
                lambda inputs, model: np.roll(inputs["decoder_token_ids"], -1, axis=1), tmp_path)


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_cached_steps_equal_full_forward_on_ragged_sources(attention):
    model = _model(attention=attention)
    inputs = _inputs(3, 6)
    check_cached_steps_equal_full_forward(model, inputs, inputs, inputs["decoder_token_ids"])
    config = model.get_config()
    assert config["attention"] == attention and GRUSeq2Seq.from_config(config).get_config() == config


def test_an_unknown_wiring_is_refused_by_name():
    with pytest.raises(ValueError, match="attention"):
        _model(attention="bahdanu")


@pytest.mark.parametrize("attention", ATTENTIONS)
def test_padded_source_tokens_cannot_change_logits(attention):
    model = _model(attention=attention)
    inputs = _inputs(2, 6)
    inputs["encoder_padding_mask"] = np.array([[1] * 4 + [0] * 3, [1] * 7], "int32")
    changed = dict(inputs, encoder_token_ids=inputs["encoder_token_ids"].copy())
    changed["encoder_token_ids"][0, 4:] = 9
    np.testing.assert_allclose(model.predict(inputs, verbose=0), model.predict(changed, verbose=0), atol=1e-5)


def test_the_attention_learns_from_the_first_step():
    """Regression: with Keras's default embedding scale the attention query's gradient was ~1e-8."""
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = kzoo.create("gru_tiny", vocabulary_size=200)
    rng = np.random.default_rng(0)
    source, target = rng.integers(5, 200, (8, 12)).astype("int32"), rng.integers(5, 200, (8, 10)).astype("int32")
    inputs = {"encoder_token_ids": source, "encoder_padding_mask": np.ones_like(source),
              "decoder_token_ids": target, "decoder_padding_mask": np.ones_like(target)}
    with tf.GradientTape() as tape:
        logits = model(inputs, training=True)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(np.roll(target, -1, 1), logits, from_logits=True))
    query = next(v for v in model.trainable_variables if v.path == "attention/query/kernel")
    assert float(tf.norm(tape.gradient(loss, query))) > 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("attention", [name for name in ATTENTIONS if name != "luong_concat"])  # The default: test_bundle.
def test_each_wiring_exports_its_decode_step_with_token_identical_decoding(tmp_path, attention):
    from export.bundle import ExportOptions, export_bundle
    from export.parity import FLOAT_TOLERANCE

    keras.utils.set_random_seed(3)
    mask = np.ones((3, 9), "int32")
    mask[1, 5:] = 0
    inputs = {"encoder_token_ids": random_ids(3, 9, VOCAB, seed=0) * mask, "encoder_padding_mask": mask}
    manifest = export_bundle(_model(attention=attention), tmp_path / "bundle", inputs, ExportOptions(
        formats=("savedmodel", "tflite", "onnx"), quantize=("fp32",), special_tokens={"pad": 0, "start": 1, "end": 2},
        max_new_tokens=6, max_length=12))
    assert kzoo.load_model(tmp_path / "bundle" / "model.keras").attention_wiring == attention
    for variant in ("savedmodel", "tflite_fp32", "onnx"):
        report = manifest["parity"]["variants"][variant]
        assert report["max_abs_diff"] <= FLOAT_TOLERANCE and report.get("token_mismatches", 0) == 0, (variant, report)
