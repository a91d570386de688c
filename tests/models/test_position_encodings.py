"""One `position_encoding` argument for every Transformer family: each value round-trips, caches and masks."""

import keras
import numpy as np
import pytest

import kzoo
from kzoo.layers import MultiHeadAttention
from kzoo.layers.position_encodings import POSITION_ENCODINGS
from kzoo.models import CausalLM, DecoderBackbone, EncoderBackbone, TextClassifier, TransformerSeq2Seq
from tests.models import test_causal_lm, test_transformer_seq2seq
from tests.models.encoders import inputs as encoder_inputs
from tests.models.harness import check_cached_steps_equal_full_forward, check_rows_decode_at_their_own_positions

SMALL = dict(num_layers=2, num_heads=2, hidden_dim=16, intermediate_dim=32, dropout=0.0)


def _decoder(position_encoding):
    return CausalLM(DecoderBackbone(vocabulary_size=test_causal_lm.VOCAB, max_sequence_length=24,
                                    position_encoding=position_encoding, **SMALL))


def _seq2seq(position_encoding):
    return TransformerSeq2Seq(vocabulary_size=test_transformer_seq2seq.VOCAB, position_encoding=position_encoding,
                              **SMALL)


def _classifier(position_encoding):
    return TextClassifier(EncoderBackbone(vocabulary_size=50, max_sequence_length=16,
                                          position_encoding=position_encoding, **SMALL), num_classes=3)


@pytest.mark.parametrize("position_encoding", POSITION_ENCODINGS)
def test_cached_decoding_equals_the_full_pass_and_the_config_round_trips(position_encoding, tmp_path):
    keras.utils.set_random_seed(0)
    for make, module in ((_decoder, test_causal_lm), (_seq2seq, test_transformer_seq2seq)):
        model = make(position_encoding)
        inputs = module._inputs(3, 7)
        target = inputs.get("decoder_token_ids", inputs.get("token_ids"))
        check_cached_steps_equal_full_forward(model, inputs, inputs, target)
        check_rows_decode_at_their_own_positions(model, inputs, target)
        config = model.get_config()
        assert type(model).from_config(config).get_config() == config
        model.save(tmp_path / "model.keras")
        restored = keras.saving.load_model(tmp_path / "model.keras")
        np.testing.assert_allclose(restored.predict(inputs, verbose=0), model.predict(inputs, verbose=0), atol=0)
    classifier = _classifier(position_encoding)
    batch = encoder_inputs(2, 8)
    assert type(classifier).from_config(classifier.get_config()).backbone.position_encoding == position_encoding
    assert classifier.predict(batch, verbose=0).shape == (2, 3)
    vit = kzoo.create("vit_tiny", position_encoding=position_encoding)
    images = {"images": np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")}
    vit.save(tmp_path / "vit.keras")
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "vit.keras").predict(images, verbose=0),
                               vit.predict(images, verbose=0), atol=0)
    learned = position_encoding == "learned"  # Only ViT's own table has weights in the patch embedding.
    assert hasattr(vit.backbone.patch_embedding, "position_embeddings") == learned


@pytest.mark.parametrize("position_encoding", POSITION_ENCODINGS)
def test_order_is_seen_only_where_positions_are(position_encoding):
    """Swapping two tokens changes an encoder's output unless it has no positions at all."""
    keras.utils.set_random_seed(0)
    classifier = _classifier(position_encoding)
    for layer in classifier._flatten_layers():
        if isinstance(layer, MultiHeadAttention):  # Peaked attention: at BERT's init it is near uniform,
            kernel = layer.query_key_value_dense.kernel  # so rotating queries and keys would barely show.
            kernel.assign(kernel * 30.0)
    batch = encoder_inputs(1, 8)
    batch["padding_mask"][:] = 1
    swapped = {name: value.copy() for name, value in batch.items()}
    swapped["token_ids"][0, [2, 5]] = batch["token_ids"][0, [5, 2]]
    seq = classifier.backbone
    a = np.asarray(seq(batch)["sequence_output"])
    b = np.asarray(seq(swapped)["sequence_output"])
    permuted = b[:, [0, 1, 5, 3, 4, 2, 6, 7]]
    if position_encoding == "none":  # A bag of tokens: the outputs move with their tokens, nothing else.
        np.testing.assert_allclose(permuted, a, atol=1e-5)
    else:
        assert np.abs(permuted - a).max() > 1e-3


def test_rotary_lives_in_self_attention_only_and_other_values_are_refused():
    model = _seq2seq("rotary")
    attention = [layer for layer in model._flatten_layers() if isinstance(layer, MultiHeadAttention)]
    rotary = {layer.path: layer.rotary_max_wavelength for layer in attention}
    assert all(value == 10000 for path, value in rotary.items() if "self_attention" in path)
    assert all(value is None for path, value in rotary.items() if "cross_attention" in path)
    with pytest.raises(ValueError, match="position_encoding"):
        _decoder("alibi")
    cross = MultiHeadAttention(num_heads=2, key_dim=4, rotary_max_wavelength=100)
    with pytest.raises(ValueError, match="rotary positions are for self-attention"):
        cross(np.zeros((1, 2, 8), "float32"), np.zeros((1, 3, 8), "float32"))


@pytest.mark.slow
@pytest.mark.parametrize("preset, position_encoding", [("transformer_tiny", "rotary"), ("transformer_tiny", "learned"),
                                                       ("causal_lm_tiny", "rotary"), ("causal_lm_tiny", "none"),
                                                       ("vit_tiny", "rotary")])
def test_each_encoding_exports_its_kv_cache_step_with_token_identical_decoding(tmp_path, preset, position_encoding):
    from export.bundle import ExportOptions, export_bundle
    from export.parity import FLOAT_TOLERANCE

    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    mask = np.ones((3, 8), "int32")
    mask[1, 5:] = 0
    ids = rng.integers(3, 60, size=(3, 8)).astype("int32") * mask
    if preset == "transformer_tiny":
        inputs = {"encoder_token_ids": ids, "encoder_padding_mask": mask}
    elif preset == "vit_tiny":
        inputs = {"images": rng.random((4, 8, 8, 1)).astype("float32")}
    else:
        inputs = {"token_ids": ids[:, :5], "padding_mask": np.ones((3, 5), "int32")}
    size = {} if preset == "vit_tiny" else {"vocabulary_size": 60}
    model = kzoo.create(preset, position_encoding=position_encoding, **size)
    manifest = export_bundle(model, tmp_path / "bundle", inputs, ExportOptions(
        formats=("tflite", "onnx"), quantize=("fp32",), special_tokens={"pad": 0, "start": 1, "end": 2},
        max_new_tokens=6, max_length=14))
    for variant in ("tflite_fp32", "onnx"):
        report = manifest["parity"]["variants"][variant]
        assert report["max_abs_diff"] <= FLOAT_TOLERANCE and report.get("token_mismatches", 0) == 0, (variant, report)
