"""benchmarks/export.py, run as a script: every format and variant timed and sized, ratios match the numbers,
its section written."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# What the benchmark measures, by design: every variant of the classifier bundle and its fp32 twin.
FP32_OF = {"savedmodel": "savedmodel", "onnx": "onnx", "onnx_dynamic_int8": "onnx", "tflite_fp32": "tflite_fp32",
           "tflite_fp16": "tflite_fp32", "tflite_dynamic_int8": "tflite_fp32", "tflite_int8": "tflite_fp32"}
BATCHES = (1, 8)
QUICK_REPETITIONS = 5
# The quick run's decoding paths: Keras, the SavedModel loop and every variant of the quick translator bundle.
DECODING_PATHS = {"keras", "savedmodel", "onnx", "onnx_dynamic_int8", "tflite_fp32", "tflite_dynamic_int8"}
FLOAT_DECODING = {"keras", "savedmodel", "onnx", "tflite_fp32"}


@pytest.mark.slow
def test_quick_run_covers_every_variant_and_writes_its_section(tmp_path):
    markdown, rows_file = tmp_path / "benchmarks.md", tmp_path / "rows.json"
    other = "<!-- layers:start -->\nkept as it was\n<!-- layers:end -->\n"
    markdown.write_text("# Benchmarks\n\n" + other)

    command = [sys.executable, "-m", "benchmarks.export", "--quick", "--markdown", str(markdown), "--json", str(rows_file)]
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(rows_file.read_text())

    classifier = {(r["variant"], r["batch"]): r for r in rows if r["table"] == "classifier"}
    assert set(classifier) == {(name, batch) for name in FP32_OF for batch in BATCHES}
    for (name, batch), row in classifier.items():
        assert row["size_bytes"] > 0 and row["p50_ms"] > 0 and row["runs"] == QUICK_REPETITIONS, name
        assert row["min_ms"] <= row["p50_ms"] <= row["p90_ms"], name
        fp32 = FP32_OF[name]
        assert row["size_ratio"] == pytest.approx(row["size_bytes"] / classifier[fp32, batch]["size_bytes"])
        assert row["speedup"] == pytest.approx(classifier["savedmodel", batch]["p50_ms"] / row["p50_ms"])
        assert row["speedup_min"] == pytest.approx(classifier["savedmodel", batch]["min_ms"] / row["min_ms"])
        assert row["max_abs_diff"] is not None and row["max_abs_diff"] >= 0.0, name
    for name in ("savedmodel", "onnx", "tflite_fp32"):
        assert classifier[name, 1]["max_abs_diff"] <= 1e-4, name
        assert classifier[name, 1]["size_ratio"] == 1.0
    pairs = (("onnx_dynamic_int8", "onnx"), ("tflite_dynamic_int8", "tflite_fp32"), ("tflite_int8", "tflite_fp32"))
    for int8, fp32 in pairs:
        assert classifier[int8, 1]["size_bytes"] < classifier[fp32, 1]["size_bytes"], int8
    assert classifier["tflite_fp16", 1]["size_bytes"] < classifier["tflite_fp32", 1]["size_bytes"]

    decoding = {(r["variant"], r["batch"], r["strategy"]): r for r in rows if r["table"] == "decoding"}
    paths = {name for name, _, _ in decoding}
    assert paths == DECODING_PATHS
    for batch in (1, 16):
        assert ("savedmodel", batch, "greedy") in decoding and ("savedmodel", batch, "beam") not in decoding
        for name in paths - {"savedmodel"}:
            assert {(name, batch, "greedy"), (name, batch, "beam")} <= set(decoding), name
    for (name, batch, strategy), row in decoding.items():
        assert row["tokens_per_s"] == pytest.approx(batch * row["new_tokens"] / (row["call_ms"] / 1000)), name
        keras = decoding["keras", batch, strategy]
        assert row["vs_keras"] == pytest.approx(row["tokens_per_s"] / keras["tokens_per_s"]), name
        if strategy == "beam":
            greedy = decoding[name, batch, "greedy"]
            assert row["beam_vs_greedy"] == pytest.approx(row["tokens_per_s"] / greedy["tokens_per_s"]), name
        if name == "tflite_dynamic_int8":
            onnx = decoding["onnx_dynamic_int8", batch, strategy]
            assert row["litert_vs_onnx"] == pytest.approx(row["tokens_per_s"] / onnx["tokens_per_s"])
        if name in FLOAT_DECODING:  # Float variants decode Keras's tokens on every row of the tiny model.
            assert row["same_rows"] == 1.0, (name, batch, strategy)

    text = markdown.read_text()
    assert other in text
    start, end = text.index("<!-- export:start -->"), text.index("<!-- export:end -->")
    section = text[start:end]
    assert "| format | variant | runtime | batch | size |" in section
    assert section.count("| TFLite | int8 | LiteRT |") == len(BATCHES)
    assert "python -m benchmarks.export --quick" in section
    assert "| LiteRT | dynamic_int8 | 16 | beam-4 |" in section
