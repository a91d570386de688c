"""`--init-from`: masked-LM pre-training through the recipe, then a classifier on its backbone."""

import json

import numpy as np
import pytest

from kzoo.training.recipe import RunConfig, _training_subset, evaluate, train

TINY = dict(epochs=1, steps_per_epoch=3, batch_size=8, warmup_steps=1, sequence_length=32)


@pytest.fixture(scope="module")
def mlm_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "mlm"
    train(RunConfig(preset="mlm_tiny", task="python_docs", run_dir=str(run_dir), tokenizer="wordpiece",
                    vocabulary_size=300, max_examples=400, **TINY), verbose=0)
    return run_dir


def test_masked_lm_runs_report_masked_token_accuracy_and_perplexity(mlm_run):
    first = evaluate(mlm_run, limit=64, write=False)
    assert first["task"] == "python_docs" and first["examples"] == 64
    assert 0 <= first["masked_token_accuracy"] <= 100 and first["perplexity"] > 1
    # The masks are seeded; keras-hub's draws in a parallel map still vary a little.
    again = evaluate(mlm_run, limit=64, write=False)
    assert again["perplexity"] == pytest.approx(first["perplexity"], rel=0.1)


def test_a_frozen_backbone_keeps_the_pretrained_weights_and_pools_by_the_mean(mlm_run, tmp_path):
    from kzoo.training.run_folder import load_run

    run_dir = tmp_path / "topics"
    train(RunConfig(init_from=str(mlm_run), task="stdlib_topics", run_dir=str(run_dir), freeze_backbone=True,
                    label_fraction=0.01, **TINY), verbose=0)
    source, tuned = load_run(mlm_run), load_run(run_dir)
    assert type(tuned.model).__name__ == "TextClassifier" and tuned.model.pooling == "mean"
    assert tuned.model.num_classes == 8 and tuned.config["label_names"][0] == "text processing"
    for before, after in zip(source.model.backbone.get_weights(), tuned.model.backbone.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert tuned.tokenizer.vocabulary == source.tokenizer.vocabulary
    config = json.loads((run_dir / "config.json").read_text())
    assert config["init_from"] == str(mlm_run) and config["label_fraction"] == 0.01
    assert 0 <= evaluate(run_dir, write=False)["accuracy"] <= 100  # percent


def test_a_matching_preset_is_accepted_and_a_different_one_is_named(mlm_run, tmp_path):
    same = RunConfig(preset="classifier_tiny", init_from=str(mlm_run), task="stdlib_topics",
                     run_dir=str(tmp_path / "same"), **TINY)
    train(same, verbose=0)
    different = RunConfig(preset="classifier_small", init_from=str(mlm_run), task="stdlib_topics",
                          run_dir=str(tmp_path / "different"), **TINY)
    with pytest.raises(ValueError, match=r"Preset 'classifier_small' has num_layers=\d+, but .* has num_layers=2"):
        train(different, verbose=0)
    with pytest.raises(ValueError, match="cannot learn a translation task"):
        train(RunConfig(init_from=str(mlm_run), task="numbers_en_de", run_dir=str(tmp_path / "wrong"), **TINY),
              verbose=0)


def test_label_fraction_is_a_seeded_sample_of_the_training_split():
    import kzoo.data

    task = kzoo.data.load_task("stdlib_topics")
    first = _training_subset(RunConfig(label_fraction=0.01, seed=3), task).train
    assert len(first) == round(0.01 * len(task.train)) and set(first) <= set(task.train)
    assert _training_subset(RunConfig(label_fraction=0.01, seed=3), task).train == first
    assert _training_subset(RunConfig(label_fraction=0.01, seed=4), task).train != first
    assert _training_subset(RunConfig(label_fraction=0.01, max_examples=5), task).train.__len__() == 5
    for bad in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match="label_fraction must be in"):
            train(RunConfig(preset="classifier_tiny", task="stdlib_topics", run_dir="unused", label_fraction=bad))


def test_the_cli_pre_trains_on_the_users_text_file_and_evaluates_it(tmp_path, capsys):
    import kzoo.data
    from kzoo.commands.main import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(kzoo.data.load_task("python_docs").train[:300]))  # Paragraphs, blank-line apart.
    run_dir = tmp_path / "mlm"
    arguments = ["train", "mlm_tiny", "--data", str(corpus), "--run-dir", str(run_dir), "--epochs", "1",
                 "--steps-per-epoch", "2", "--batch-size", "8", "--tokenizer", "wordpiece", "--vocabulary-size", "300"]
    assert main(arguments) == 0
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["kind"], config["data"], config["family"]) == ("masked_lm", "data/corpus.txt", "MaskedLM")
    capsys.readouterr()
    assert main(["evaluate", str(run_dir)]) == 0
    printed = capsys.readouterr().out
    assert "masked_token_accuracy" in printed and "perplexity" in printed


def test_model_options_reach_the_preset_and_unknown_ones_are_named(tmp_path):
    from kzoo.commands.main import UsageError, _model_options

    assert _model_options(["position_encoding=rotary", "dropout=0.2", "pooling=mean"]) == {
        "position_encoding": "rotary", "dropout": 0.2, "pooling": "mean"}
    with pytest.raises(UsageError, match="is not NAME=VALUE"):
        _model_options(["rotary"])
    bad = RunConfig(preset="transformer_tiny", task="numbers_en_de", run_dir=str(tmp_path / "bad"),
                    model_options={"positional": "rotary"})
    with pytest.raises(ValueError, match="does not take the model option positional; valid ones: .*position_encoding"):
        train(bad)
    assert not (tmp_path / "bad").exists()
    run_dir = tmp_path / "rotary"
    train(RunConfig(preset="classifier_tiny", task="stdlib_topics", run_dir=str(run_dir), vocabulary_size=300,
                    model_options={"position_encoding": "rotary", "pooling": "mean"}, **TINY), verbose=0)
    from kzoo.training.run_folder import load_run

    model = load_run(run_dir).model
    assert (model.backbone.position_encoding, model.pooling) == ("rotary", "mean")
