"""kzoo.commands.quickstart: train, evaluate, export and translate through `kzoo.runtime`, then reuse it all."""

import json

import pytest

from kzoo.commands.quickstart import EXAMPLES, run


@pytest.mark.slow
def test_a_tiny_quickstart_translates_through_the_runtime_and_a_second_run_reuses_it(tmp_path, capsys):
    folders = dict(run_dir=tmp_path / "run", out=tmp_path / "bundle")
    first = run(preset="transformer_tiny", epochs=1, steps_per_epoch=30, batch_size=32, **folders)
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert {"savedmodel", "tflite_fp32", "onnx"} <= set(manifest["parity"]["variants"])
    assert {row["format"] for row in first["rows"]} >= {"savedmodel", "tflite_fp32", "onnx"}
    assert len(first["translations"]) == EXAMPLES and all(isinstance(text, str) for text in first["translations"])
    printed = capsys.readouterr().out
    assert "[4/4] translating held-out sentences with kzoo.runtime" in printed and "Serve it: kzoo serve" in printed

    second = run(preset="transformer_tiny", **folders)
    printed = capsys.readouterr().out
    assert "reusing the trained model" in printed and "reusing the bundle" in printed
    assert second["translations"] == first["translations"] and second["metrics"] == first["metrics"]
