"""The fit recipe: run folders, metrics of every task kind, and bad configs that fail first."""

import json
import subprocess
import sys

import pytest

from kzoo.training.recipe import RunConfig, evaluate, train, validate

SMALL = dict(epochs=1, steps_per_epoch=3, batch_size=16, vocabulary_size=300, max_examples=200, warmup_steps=2)


@pytest.fixture(scope="module")
def translation_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "translator"
    train(RunConfig(preset="transformer_tiny", task="numbers_en_de", run_dir=str(run_dir), **SMALL), verbose=0)
    return run_dir


def test_a_run_folder_holds_model_tokenizer_config_logs_and_history(translation_run):
    names = {path.name for path in translation_run.iterdir()}
    assert {"model.keras", "tokenizer", "config.json", "logs", "history.json", "best.keras"} <= names
    config = json.loads((translation_run / "config.json").read_text())
    assert config["preset"] == "transformer_tiny" and config["family"] == "TransformerSeq2Seq"
    assert config["steps_per_epoch"] == 3
    history = json.loads((translation_run / "history.json").read_text())
    assert len(history["loss"]) == 1 and history["loss"][0] > 0


def test_evaluate_translation_reports_bleu_chrf_and_exact_match(translation_run):
    results = evaluate(translation_run, limit=8)
    assert {"bleu", "chrf", "exact_match"} <= set(results)
    assert 0.0 <= results["bleu"] <= 100.0 and results["examples"] == 8
    assert json.loads((translation_run / "metrics.json").read_text())["examples"] == 8


def test_a_finished_run_is_not_overwritten(translation_run):
    with pytest.raises(ValueError, match="already holds a finished run"):
        train(RunConfig(preset="transformer_tiny", task="numbers_en_de", run_dir=str(translation_run), **SMALL), verbose=0)


@pytest.mark.parametrize(
    "preset, task, metric",
    [("classifier_tiny", "language_id", "accuracy"), ("vit_tiny", "digits", "accuracy"), ("tagger_tiny", "faker_ner", "entity_f1")],
)
def test_other_task_kinds_train_and_evaluate(tmp_path, preset, task, metric):
    run_dir = tmp_path / preset
    train(RunConfig(preset=preset, task=task, run_dir=str(run_dir), **SMALL), verbose=0)
    results = evaluate(run_dir, limit=32)
    assert 0.0 <= results[metric] <= 100.0


@pytest.mark.parametrize(
    "overrides, match",
    [
        (dict(preset="transformer_smal"), "Did you mean transformer_small"),
        (dict(task="numbers_en_xx"), "numbers_en_xx"),
        (dict(steps_per_epoch=-1), "steps_per_epoch=-1"),
        (dict(batch_size=0), "batch_size=0"),
        (dict(preset="classifier_tiny"), "cannot learn the translation task"),
        (dict(tokenizer="bpe"), "tokenizer='bpe'"),
    ],
)
def test_bad_configs_fail_before_training(tmp_path, overrides, match):
    config = RunConfig(**{**dict(preset="transformer_tiny", task="numbers_en_de", run_dir=str(tmp_path / "x")), **overrides})
    with pytest.raises(ValueError, match=match):
        validate(config)
    assert not (tmp_path / "x").exists()


def test_config_file_with_unknown_keys_is_rejected(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("preset: transformer_tiny\ntask: numbers_en_de\nrun_dir: out\nepochz: 3\n")
    with pytest.raises(ValueError, match="unknown keys epochz"):
        RunConfig.from_file(path)


@pytest.mark.parametrize(
    "arguments, match",
    [
        (["train", "transformer_tiny", "--task", "nope"], "nope"),
        (["train", "transformer_tiny", "--task", "numbers_en_de", "--steps-per-epoch", "-5"], "steps_per_epoch=-5"),
        (["evaluate", "/nonexistent/run"], "is not a finished kzoo run"),
        (["export", "/nonexistent/run"], "is not a folder"),
        (["train", "--config", "/nonexistent/run.yaml"], "does not exist"),
    ],
)
def test_cli_bad_input_is_one_sentence_and_exit_code_2(tmp_path, arguments, match):
    result = subprocess.run([sys.executable, "-m", "kzoo.commands", *arguments], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert match in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("kzoo ")]) == 1
