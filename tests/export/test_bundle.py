"""Bundles: every format, parity reports, manifest hashes, atomic writes, clear errors."""

import json

import numpy as np
import pytest

import kzoo
from export.bundle import ExportError, ExportOptions, export_bundle
from export.parity import FLOAT_TOLERANCE, ParityError
from kzoo.runtime.manifest import file_sha256

SPECIAL = {"pad": 0, "start": 1, "end": 2}


def _classifier_inputs():
    rng = np.random.default_rng(0)
    mask = np.ones((6, 10), "int32")
    mask[2, 7:] = 0
    return {
        "token_ids": rng.integers(3, 60, size=(6, 10)).astype("int32") * mask,
        "segment_ids": np.zeros((6, 10), "int32"),
        "padding_mask": mask,
    }


def _source_inputs():
    rng = np.random.default_rng(1)
    mask = np.ones((3, 8), "int32")
    mask[1, 5:] = 0
    return {"encoder_token_ids": rng.integers(3, 60, size=(3, 8)).astype("int32") * mask, "encoder_padding_mask": mask}


@pytest.fixture(scope="module")
def classifier_bundle(tmp_path_factory):
    import keras

    keras.utils.set_random_seed(0)
    # classifier_small: big enough (1.85M weights) that weights, not graph structure, dominate file sizes.
    model = kzoo.create("classifier_small", max_sequence_length=16, num_classes=3)
    out = tmp_path_factory.mktemp("bundles") / "classifier"
    manifest = export_bundle(model, out, _classifier_inputs(), ExportOptions(task={"name": "synthetic", "kind": "classification"},
                             special_tokens=SPECIAL, onnx_quantize=True))
    return model, out, manifest


def test_every_format_and_variant_is_written_with_its_parity_report(classifier_bundle):
    _, out, manifest = classifier_bundle
    variants = manifest["parity"]["variants"]
    assert set(variants) == {
        "savedmodel", "tflite_fp32", "tflite_fp16", "tflite_dynamic_int8", "tflite_int8", "onnx", "onnx_dynamic_int8"
    }
    for name in ("savedmodel", "tflite_fp32", "onnx"):
        assert variants[name]["max_abs_diff"] <= FLOAT_TOLERANCE
    for name, report in variants.items():
        assert report["metric"] >= manifest["parity"]["reference_metric"] - 1.0, name
    assert (out / "savedmodel" / "saved_model.pb").exists()
    assert {p.name for p in out.glob("*.tflite")} == {f"model_{v}.tflite" for v in ("fp32", "fp16", "dynamic_int8", "int8")}
    assert "float_fallback_ops" in variants["tflite_int8"]
    assert variants["onnx_dynamic_int8"]["weight_type"] in ("QInt8", "QUInt8")


def test_int8_files_are_at_most_three_tenths_of_fp32(classifier_bundle):
    _, out, _ = classifier_bundle
    fp32 = (out / "model_fp32.tflite").stat().st_size
    assert (out / "model_dynamic_int8.tflite").stat().st_size <= 0.3 * fp32
    assert (out / "model_int8.tflite").stat().st_size <= 0.3 * fp32


def test_manifest_hashes_every_file_and_lives_beside_them(classifier_bundle):
    _, out, manifest = classifier_bundle
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["files"] == manifest["files"]
    for relative, entry in manifest["files"].items():
        assert file_sha256(out / relative) == entry["sha256"]
    assert manifest["signatures"]["serving_default"] == ["token_ids", "segment_ids", "padding_mask"]
    assert manifest["special_tokens"] == SPECIAL


def test_onnx_metadata_carries_what_the_runtime_needs(classifier_bundle):
    import onnx

    _, out, _ = classifier_bundle
    props = {p.key: p.value for p in onnx.load(str(out / "model.onnx")).metadata_props}
    assert props["kzoo_part"] == "serving_default"
    assert json.loads(props["kzoo_special_tokens"]) == SPECIAL


def test_the_onnx_runtime_fusion_report_is_in_the_manifest(classifier_bundle):
    from export.onnx import FUSED_OPS_REPORTED

    _, _, manifest = classifier_bundle
    report = manifest["onnx_fusions"]["model.onnx"]
    assert set(FUSED_OPS_REPORTED) <= set(report)
    assert report["nodes_before"] > 100 and 0 < report["nodes_after"] <= report["nodes_before"]
    assert all(isinstance(report[name], int) and report[name] >= 0 for name in FUSED_OPS_REPORTED)


def test_fusion_report_counts_what_the_optimizer_fuses(tmp_path):
    """A textbook ReduceMean layer norm, which ONNX Runtime does fuse: the report must count it."""
    import onnx
    from onnx import TensorProto, helper

    from export.onnx import fusion_report

    width = 8
    constants = {"two": np.float32(2), "epsilon": np.float32(1e-6), "gamma": np.ones(width, "float32"),
                 "beta": np.zeros(width, "float32")}
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1]),
        helper.make_node("Sub", ["x", "mean"], ["centred"]),
        helper.make_node("Pow", ["centred", "two"], ["squared"]),
        helper.make_node("ReduceMean", ["squared"], ["variance"], axes=[-1]),
        helper.make_node("Add", ["variance", "epsilon"], ["shifted"]),
        helper.make_node("Sqrt", ["shifted"], ["deviation"]),
        helper.make_node("Div", ["centred", "deviation"], ["normalised"]),
        helper.make_node("Mul", ["normalised", "gamma"], ["scaled"]),
        helper.make_node("Add", ["scaled", "beta"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "layer_norm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "sequence", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence", width])],
        [onnx.numpy_helper.from_array(np.asarray(v), k) for k, v in constants.items()],
    )
    path = tmp_path / "layer_norm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    report = fusion_report(path, num_heads=2, hidden_size=width, model_type="bert")
    assert report["LayerNormalization"] == 1 and report["nodes_after"] == 1 and report["nodes_before"] == 9


def test_seq2seq_decoding_through_onnx_and_litert_equals_keras_greedy(tmp_path):
    import keras

    keras.utils.set_random_seed(1)
    model = kzoo.create("transformer_tiny", vocabulary_size=60)
    manifest = export_bundle(
        model, tmp_path / "translator", _source_inputs(), ExportOptions(formats=("tflite", "onnx"), quantize=("fp32",),
        special_tokens=SPECIAL, max_new_tokens=6, max_length=10,
        metric=("first_token", lambda tokens: float(tokens[:, 0].sum()))),  # Any task metric of the tokens.
    )
    keras_score = float(model.generate(_source_inputs(), 6, start_token_id=1, end_token_id=2)[:, 0].sum())
    assert manifest["parity"]["metric_name"] == "first_token"
    assert manifest["parity"]["reference_metric"] == keras_score
    for variant in ("tflite_fp32", "onnx"):
        report = manifest["parity"]["variants"][variant]
        assert report["token_mismatches"] == 0 and report["metric"] == keras_score
        assert report["max_abs_diff"] <= FLOAT_TOLERANCE
    assert manifest["exports"]["onnx"]["parts"] == {"encode": "encoder.onnx", "decode_step": "decoder_step.onnx"}
    assert manifest["decoding"]["state"]["cache_0"]["source"] == "zeros"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gru_tiny", "causal_lm_tiny", "tagger_tiny", "mlm_tiny", "vit_tiny"])
def test_every_other_family_exports_to_every_float_format(tmp_path, name):
    import keras

    keras.utils.set_random_seed(2)
    if name.startswith("vit"):
        model = kzoo.create(name)
        inputs = {"images": np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")}
    elif name == "causal_lm_tiny":
        model = kzoo.create(name, vocabulary_size=60)
        inputs = {"token_ids": np.random.default_rng(0).integers(3, 60, (3, 5)).astype("int32"), "padding_mask": np.ones((3, 5), "int32")}
    elif name == "gru_tiny":
        model = kzoo.create(name, vocabulary_size=60)
        inputs = _source_inputs()
    else:
        model = kzoo.create(name, vocabulary_size=60, max_sequence_length=16)
        inputs = _classifier_inputs()
    manifest = export_bundle(model, tmp_path / name, inputs, ExportOptions(quantize=("fp32",), special_tokens=SPECIAL,
                             max_new_tokens=5, max_length=12))
    for variant in ("savedmodel", "tflite_fp32", "onnx"):
        assert manifest["parity"]["variants"][variant]["max_abs_diff"] <= FLOAT_TOLERANCE, variant
        assert manifest["parity"]["variants"][variant].get("token_mismatches", 0) == 0, variant


@pytest.mark.slow
def test_a_keras_hub_task_model_exports_through_the_generic_path(tmp_path):
    """Any single-call Keras model exports: here keras-hub's own BERT classifier, built tiny."""
    import keras
    import keras_hub

    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=32,
                                             intermediate_dim=64, max_sequence_length=16)
    model = keras_hub.models.BertTextClassifier(backbone, num_classes=3, preprocessor=None)
    rng = np.random.default_rng(0)
    inputs = {"token_ids": rng.integers(1, 100, (4, 16)).astype("int32"), "segment_ids": np.zeros((4, 16), "int32"),
              "padding_mask": np.ones((4, 16), "int32")}
    model(inputs)
    manifest = export_bundle(model, tmp_path / "bert", inputs, ExportOptions(formats=("tflite", "onnx"), quantize=("fp32",)))
    assert manifest["family"] == "BertTextClassifier" and manifest["decoding"] is None
    for variant in ("tflite_fp32", "onnx"):
        assert manifest["parity"]["variants"][variant]["max_abs_diff"] <= FLOAT_TOLERANCE


def test_a_failing_variant_raises_a_typed_error_and_leaves_no_bundle(tmp_path, monkeypatch):
    import export.parity as parity

    monkeypatch.setattr(parity, "FLOAT_TOLERANCE", 0.0)  # Nothing converts bit-exactly.
    model = kzoo.create("classifier_tiny", vocabulary_size=60, max_sequence_length=16)
    with pytest.raises(ParityError, match="Export onnx fails its parity check: max abs diff of `logits`"):
        export_bundle(model, tmp_path / "bundle", _classifier_inputs(), ExportOptions(formats=("onnx",)))
    assert list(tmp_path.iterdir()) == []


def test_skip_failing_leaves_the_variant_out_and_says_why(tmp_path, monkeypatch):
    import export.parity as parity

    monkeypatch.setattr(parity, "FLOAT_TOLERANCE", 0.0)
    model = kzoo.create("classifier_tiny", vocabulary_size=60, max_sequence_length=16)
    manifest = export_bundle(model, tmp_path / "bundle", _classifier_inputs(), ExportOptions(formats=("onnx",), skip_failing=True))
    assert "onnx" in manifest["parity"]["skipped"] and not (tmp_path / "bundle" / "model.onnx").exists()


def test_an_interrupted_export_leaves_nothing_behind(tmp_path, monkeypatch):
    import export.tflite as tflite

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tflite, "float_ops", interrupted)
    model = kzoo.create("classifier_tiny", vocabulary_size=60, max_sequence_length=16)
    with pytest.raises(KeyboardInterrupt):
        export_bundle(model, tmp_path / "bundle", _classifier_inputs(), ExportOptions(formats=("tflite",), quantize=("int8",)))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(formats=("coreml",)), "expected some of savedmodel, tflite, onnx. Received: formats=coreml"),
        (dict(quantize=("int2",)), "Received: quantize=int2"),
        (dict(quantize=("int4",)), "int4 is written for ONNX only"),
        (dict(onnx_quantize=("int2",)), "expected some of dynamic_int8, int4. Received: onnx_quantize=int2"),
        (dict(formats=("tflite",), onnx_quantize=True), "ONNX quantization needs the onnx format"),
    ],
)
def test_bad_options_fail_with_one_sentence(tmp_path, kwargs, match):
    model = kzoo.create("classifier_tiny", vocabulary_size=60, max_sequence_length=16)
    with pytest.raises(ExportError, match=match):
        export_bundle(model, tmp_path / "bundle", _classifier_inputs(), ExportOptions(**kwargs))


def test_an_unwritable_folder_fails_with_one_sentence(tmp_path):
    model = kzoo.create("classifier_tiny", vocabulary_size=60, max_sequence_length=16)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ExportError, match="Cannot write to"):
        export_bundle(model, blocker / "bundle", _classifier_inputs(), ExportOptions(formats=("onnx",)))
