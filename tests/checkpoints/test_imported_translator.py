"""An imported Marian translator through the whole zoo: run folder, evaluate, export with parity, runtime, fine-tuning.

The committed fixture translates English numbers into German; 200 numbers it was
not trained on (num2words, seeded) check that quantized files decode as fp32 does.
"""

import contextlib
import io
import json
import random

import num2words
import numpy as np
import pytest

from kzoo.commands.main import main
from tests.checkpoints.conftest import FIXTURES, fixture


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """The fixture's reference pairs as a TSV file."""
    _, reference, _ = fixture("marian_shared")
    path = tmp_path_factory.mktemp("data") / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in zip(reference["source_texts"], reference["target_texts"])))
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory, pairs):
    run_dir = tmp_path_factory.mktemp("runs") / "marian"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert main(["import", str(FIXTURES / "marian_shared"), "--run-dir", str(run_dir), "--data", str(pairs)]) == 0
    # Imported with its data: the hint names evaluate as it will work, without asking for a file.
    assert f"Next: kzoo evaluate {run_dir}   |" in output.getvalue()
    return run_dir


def test_import_writes_a_run_folder_that_records_the_checkpoint(run):
    config = json.loads((run / "config.json").read_text())
    assert config["architecture"] == "MarianMTModel" and config["family"] == "TransformerSeq2Seq"
    assert config["kind"] == "translation" and config["data"] == "data/pairs.tsv"
    assert config["generation"]["strategy"] == "beam" and config["generation"]["suppressed_token_ids"] == [149]
    assert sorted(p.name for p in (run / "tokenizer").iterdir()) == ["source.spm", "target.spm", "tokenizer.json",
                                                                     "vocab.json"]
    assert (run / "model.keras").is_file() and (run / "data" / "pairs.tsv").is_file()


def test_evaluate_decodes_with_the_checkpoints_beam_search(run, capsys):
    from kzoo.training.recipe import evaluate

    _, reference, _ = fixture("marian_shared")
    results = evaluate(run, write=False)
    expected = 100.0 * np.mean([h == t for h, t in zip(reference["beam_texts"], reference["target_texts"])])
    assert results["examples"] == 8 and results["exact_match"] == pytest.approx(expected)
    assert [s["hypothesis"] for s in results["samples"]] == reference["beam_texts"][:5]


@pytest.mark.slow
def test_exported_files_decode_like_keras_and_int8_like_fp32(run, tmp_path):
    from export.bundle import ExportOptions
    from kzoo.commands.export import export_run
    from kzoo.runtime import load
    from kzoo.training.recipe import translate
    from kzoo.training.run_folder import load_run

    out = tmp_path / "bundle"
    options = ExportOptions(formats=["tflite", "onnx"], quantize=["fp32", "dynamic_int8"], onnx_quantize=True,
                            skip_failing=True)
    rows = export_run(run, options, out=out, progress=lambda message: None)
    assert {row["format"] for row in rows if row["metric"] != "skipped"} >= {"tflite_fp32", "onnx"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generation"]["length_normalization"] == "average"
    assert manifest["special_tokens"]["decoder_start"] == 149
    texts = [num2words.num2words(n) for n in random.Random(0).sample(range(1, 3000), 200)]
    keras_run = load_run(run)
    expected = translate(keras_run.model, keras_run.tokenizer, texts, max_new_tokens=24)  # Greedy.
    for backend in ("onnx", "tflite"):
        fp32 = load(out, backend=backend)
        assert fp32.translate(texts, max_new_tokens=24, strategy="greedy") == expected, backend
        int8 = load(out, backend=backend, variant="dynamic_int8").translate(texts, max_new_tokens=24, strategy="greedy")
        agreement = np.mean([a == b for a, b in zip(int8, expected)])
        assert agreement >= 0.95, (backend, agreement)
        assert len(set(int8)) == len(set(texts)), backend  # Distinct inputs, distinct outputs.
    # The bundle's default is the checkpoint's own beam search, as in Keras.
    beams = translate(keras_run.model, keras_run.tokenizer, texts[:16], max_new_tokens=24, **keras_run.config["generation"])
    assert load(out, backend="onnx").translate(texts[:16], max_new_tokens=24) == beams


def test_fine_tuning_from_the_import_keeps_its_tokenizer_and_decoding(run, pairs, tmp_path):
    from kzoo.training.recipe import RunConfig, train
    from kzoo.training.run_folder import load_run

    tuned = tmp_path / "tuned"
    lines = pairs.read_text() * 3  # 24 pairs: every tenth validates and tests.
    data = tmp_path / "more.tsv"
    data.write_text(lines)
    train(RunConfig(init_from=str(run), data=str(data), run_dir=str(tuned), epochs=1, steps_per_epoch=3, batch_size=4,
                    learning_rate=1e-5, warmup_steps=1), verbose=0)
    config = json.loads((tuned / "config.json").read_text())
    assert config["family"] == "TransformerSeq2Seq" and config["kind"] == "translation"
    assert config["generation"]["num_beams"] == 4
    history = json.loads((tuned / "history.json").read_text())
    assert np.isfinite(history["loss"]).all()
    tuned_run, source_run = load_run(tuned), load_run(run)
    assert tuned_run.tokenizer.special_ids == source_run.tokenizer.special_ids
    assert tuned_run.model.count_params() == source_run.model.count_params()
    # A small learning rate for a few steps moves the weights but keeps the translations.
    from kzoo.training.recipe import translate

    _, reference, _ = fixture("marian_shared")
    assert translate(tuned_run.model, tuned_run.tokenizer, reference["source_texts"]) == reference["greedy_texts"]
