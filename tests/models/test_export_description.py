"""kzoo.models.ExportDescription: each family's declared exports match what the model itself computes."""

import numpy as np
import pytest

import kzoo
from kzoo.models import ExportDescription


def test_a_forward_pass_model_exports_one_graph():
    description = ExportDescription(task_kind="classification")
    assert description.parts == ("serving_default",) and not description.generative
    assert description.onnx_files == {"serving_default": "model.onnx"} and description.decoding_layout() is None


@pytest.mark.parametrize(
    "preset, overrides, parts, onnx_files",
    [
        ("transformer_tiny", {}, ("serving_default", "encode", "decode_step"), {"encode": "encoder.onnx", "decode_step": "decoder_step.onnx"}),
        ("gru_tiny", {}, ("serving_default", "encode", "decode_step"), {"encode": "encoder.onnx", "decode_step": "decoder_step.onnx"}),
        ("causal_lm_tiny", {}, ("serving_default", "decode_step"), {"decode_step": "decoder_step.onnx"}),
    ],
)
def test_the_declared_decoding_state_is_what_start_decoding_returns(preset, overrides, parts, onnx_files):
    model = kzoo.create(preset, vocabulary_size=40, **overrides)
    description = model.export_description(max_length=12)
    assert description.parts == parts and description.onnx_files == onnx_files
    assert description.max_length == 12 and description.task_kind in model.task_kinds
    ids = np.random.default_rng(0).integers(3, 40, (2, 7)).astype("int32")
    names = description.source_inputs
    state = model.start_decoding({names[0]: ids, names[1]: np.ones_like(ids)}, description.max_length)
    assert set(state) == set(description.state)
    for name, entry in description.state.items():
        shape = tuple(np.asarray(state[name]).shape)
        assert len(shape) == len(entry["shape"]), name
        assert all(declared in (-1, actual) for declared, actual in zip(entry["shape"], shape)), (name, entry, shape)
    layout = description.decoding_layout()
    assert layout["updated"] == list(description.updated) and set(description.updated) <= set(layout["state"])
    assert layout["appended"] == list(description.appended) and set(description.appended) <= set(layout["state"])
    assert not set(description.updated) & set(description.appended)
    # A GRU's hidden state is returned whole and reordered in the graph; Transformer caches are appended to.
    reordered = ["beam_parents"] if description.updated else []
    assert layout["contract"] == 2 and layout["step_inputs"] == ["token_ids", "positions", *reordered]
    assert layout["prefill"] == (description.step_tokens is None) and layout["position_axis"] == 3


def test_encoder_decoders_need_a_start_token_and_the_gru_a_static_tflite_batch():
    assert kzoo.create("transformer_tiny", vocabulary_size=40).export_description().special_tokens == ("start",)
    gru = kzoo.create("gru_tiny", vocabulary_size=40).export_description()
    assert gru.step_tokens == 1 and "TensorList" in gru.tflite_static_batch
