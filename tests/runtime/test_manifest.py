"""kzoo.runtime.manifest: reading a manifest, bringing version 1 to version 2, finding an export, checking files."""

import json

import pytest

from kzoo.runtime.errors import BundleError
from kzoo.runtime.manifest import MANIFEST_VERSION, file_sha256, find_export, read_manifest, verify_files

# What a version-1 translator bundle's manifest said (the fields the upgrade reads).
VERSION_1 = {
    "manifest_version": 1,
    "family": "TransformerSeq2Seq",
    "task": {},
    "signatures": {"serving_default": [], "encode": [], "decode_step": []},
    "onnx_parts": {"encode": "encoder.onnx", "decode_step": "decoder_step.onnx"},
    "files": {},
    "parity": {"variants": {
        "savedmodel": {"files": []},
        "tflite_fp32": {"files": ["model_fp32.tflite"]},
        "onnx": {"files": ["encoder.onnx", "decoder_step.onnx"]},
        "onnx_dynamic_int8": {"files": ["encoder_qint8.onnx", "decoder_step_qint8.onnx"], "weight_type": "QInt8"},
    }, "skipped": {}},
}


def _write(folder, manifest):
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_version_1_manifest_reads_as_version_2(tmp_path):
    manifest = read_manifest(_write(tmp_path, VERSION_1))
    assert manifest["manifest_version"] == MANIFEST_VERSION == 2
    assert manifest["task"]["kind"] == "translation"  # Version 1 left it to the family.
    assert find_export(manifest, "onnx", "dynamic_int8")["parts"] == {
        "encode": "encoder_qint8.onnx", "decode_step": "decoder_step_qint8.onnx"}
    assert find_export(manifest, "onnx", "fp32")["parts"]["encode"] == "encoder.onnx"
    assert set(find_export(manifest, "tflite", "fp32")["parts"].values()) == {"model_fp32.tflite"}
    assert find_export(manifest, "savedmodel", "fp32")["parts"]["decode_step"] == "savedmodel"
    assert find_export(manifest, "tflite", "int8") is None


def test_a_version_2_manifest_is_read_as_written(tmp_path):
    written = dict(VERSION_1, manifest_version=2, task={"kind": "classification"}, exports={})
    assert read_manifest(_write(tmp_path, written)) == written


@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "is not valid JSON"),
        (json.dumps({"manifest_version": 2}), "has no `files` table"),
        (json.dumps({"manifest_version": 9, "files": {}}), "has manifest_version=9; this runtime reads version 1, 2"),
    ],
)
def test_a_bad_manifest_is_refused_in_one_sentence(tmp_path, content, match):
    (tmp_path / "manifest.json").write_text(content)
    with pytest.raises(BundleError, match=match):
        read_manifest(tmp_path)


def test_verify_files_names_a_changed_and_a_resized_file(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"abcd")
    manifest = {"files": {"model.onnx": {"sha256": file_sha256(tmp_path / "model.onnx"), "bytes": 4}}}
    verify_files(tmp_path, manifest)
    (tmp_path / "model.onnx").write_bytes(b"abce")
    with pytest.raises(BundleError, match="Bundle file model.onnx does not match its sha256"):
        verify_files(tmp_path, manifest)
    (tmp_path / "model.onnx").write_bytes(b"abc")
    with pytest.raises(BundleError, match="has 3 bytes, not the 4 recorded"):
        verify_files(tmp_path, manifest)
