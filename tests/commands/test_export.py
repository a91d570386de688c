"""`kzoo export RUN_DIR`: the summary table, a bundle the runtime serves, and one sentence on bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from export.parity import FLOAT_TOLERANCE, METRIC_TOLERANCE
from kzoo.training.recipe import RunConfig, train

SMALL = dict(epochs=1, steps_per_epoch=6, batch_size=16, vocabulary_size=300, max_examples=400, warmup_steps=2)


def kzoo(*arguments, cwd=None):
    return subprocess.run([sys.executable, "-m", "kzoo.commands", *map(str, arguments)], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def classifier_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "language_id"
    train(RunConfig(preset="classifier_tiny", task="language_id", run_dir=str(run_dir), **SMALL), verbose=0)
    return run_dir


@pytest.fixture(scope="module")
def exported(classifier_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles") / "language_id"
    result = kzoo("export", classifier_run, "--out", out, "--formats", "tflite", "onnx", "--quantize", "fp32", "int8",
                  "--onnx-quantize", "dynamic_int8", "int4")
    return result, out


@pytest.mark.slow
def test_export_prints_one_row_per_variant_and_writes_a_verified_bundle(exported):
    result, out = exported
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "format" in table and "max diff" in table and "latency" in table
    manifest = json.loads((out / "manifest.json").read_text())
    variants = manifest["parity"]["variants"]
    assert set(variants) == {"tflite_fp32", "tflite_int8", "onnx", "onnx_dynamic_int8", "onnx_int4"}
    for name, report in variants.items():
        assert name in table
        assert report["metric_name"] == "accuracy"
        if name in ("tflite_fp32", "onnx"):
            assert report["max_abs_diff"] <= FLOAT_TOLERANCE
        assert report["metric"] >= manifest["parity"]["reference_metric"] - METRIC_TOLERANCE
    assert not list(out.parent.glob(".*partial*"))


@pytest.mark.slow
def test_the_exported_bundle_classifies_like_the_keras_run(exported, classifier_run):
    from kzoo.commands.export import sample_batch
    from kzoo.runtime import load
    from kzoo.training.recipe import load_run

    _, out = exported
    run = load_run(classifier_run)
    model, tokenizer, task = run.model, run.tokenizer, run.task
    inputs, _ = sample_batch(task, tokenizer)
    keras_labels = [task.label_names[i] for i in np.asarray(model.predict(inputs, verbose=0)).argmax(-1)]
    texts = [text for text, _ in task.test[: len(keras_labels)]]
    for backend in ("onnx", "tflite"):
        assert [row["label"] for row in load(out, backend=backend).classify(texts)] == keras_labels, backend
    int4 = [row["label"] for row in load(out, backend="onnx", variant="int4").classify(texts)]
    assert np.mean(np.array(int4) == np.array(keras_labels)) >= 0.9  # Weight-only int4: within the metric gate.


@pytest.mark.slow
def test_int4_keeps_every_constant_matmul_weight_in_four_bits(exported):
    import onnx

    _, out = exported
    manifest = json.loads((out / "manifest.json").read_text())
    report = manifest["parity"]["variants"]["onnx_int4"]
    assert manifest["exports"]["onnx_int4"]["precision"] == "int4" and report["block_size"] == 32
    (int4_file,) = manifest["exports"]["onnx_int4"]["parts"].values()
    graph = onnx.load(str(out / int4_file)).graph
    constants = {initializer.name for initializer in graph.initializer}
    assert report["matmul_nbits"] == sum(node.op_type == "MatMulNBits" for node in graph.node) > 0
    assert not [node.name for node in graph.node if node.op_type == "MatMul" and node.input[1] in constants]


@pytest.mark.parametrize(
    "arguments, match",
    [
        (["--formats", "pdf"], "expected some of savedmodel, tflite, onnx"),
        (["--quantize", "int2"], "expected some of fp32, fp16, dynamic_int8, int8"),
        (["--quantize", "int4"], "int4 is written for ONNX only"),
        (["--onnx-quantize", "int2"], "expected some of dynamic_int8, int4"),
        (["--formats", "tflite", "--onnx-quantize"], "ONNX quantization needs the onnx format"),
    ],
)
def test_bad_options_fail_with_one_sentence_and_write_nothing(classifier_run, tmp_path, arguments, match):
    result = kzoo("export", classifier_run, "--out", tmp_path / "bundle", *arguments)
    assert result.returncode == 2
    assert match in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_unfinished_run_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    result = kzoo("export", tmp_path / "run", "--out", tmp_path / "bundle")
    assert result.returncode == 2 and "is not a finished kzoo run" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "bundle").exists()


def test_an_unwritable_destination_is_refused(classifier_run, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = kzoo("export", classifier_run, "--out", blocker / "bundle", "--formats", "onnx")
    assert result.returncode == 2 and "Cannot write to" in result.stderr
    assert "Traceback" not in result.stderr
