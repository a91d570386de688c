"""Checkpoints kzoo cannot import fail with one sentence naming the file, key or tensor; nothing is half-written."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from kzoo.checkpoints import CheckpointError, import_checkpoint
from tests.checkpoints.conftest import FIXTURES


@pytest.fixture
def bert(tmp_path):
    """A writable copy of the BERT classifier fixture: (folder, its tensors)."""
    folder = tmp_path / "bert"
    shutil.copytree(FIXTURES / "bert_classifier", folder)
    return folder, load_file(folder / "model.safetensors")


def _edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def test_pytorch_only_weights_get_the_conversion_command():
    with pytest.raises(CheckpointError, match=r"holds only PyTorch weights \(pytorch_model.bin\).*safetensors") as error:
        import_checkpoint(FIXTURES / "pytorch_only")
    assert "\n" not in str(error.value)


def test_a_missing_tensor_is_named(bert):
    folder, tensors = bert
    del tensors["bert.encoder.layer.1.output.dense.weight"]
    save_file(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"has no tensor bert\.encoder\.layer\.1\.output\.dense\.weight; "
                                              r"the checkpoint is incomplete"):
        import_checkpoint(folder)


def test_a_mismatched_tensor_names_both_shapes(bert):
    folder, tensors = bert
    tensors["classifier.weight"] = np.zeros((4, 32), "float32")
    save_file(tensors, folder / "model.safetensors")
    with pytest.raises(CheckpointError, match=r"classifier\.weight gives shape \(32, 4\), but kzoo's .* has \(32, 3\)"):
        import_checkpoint(folder)


def test_a_truncated_weights_file_is_named(bert):
    folder, _ = bert
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"model\.safetensors .*(truncated|damaged)"):
        import_checkpoint(folder)


def test_unused_tensors_are_reported_not_fatal(bert):
    folder, tensors = bert
    tensors["bert.extra_head.weight"] = np.ones((2, 2), "float32")
    save_file(tensors, folder / "model.safetensors")
    assert import_checkpoint(folder).unused_tensors == ["bert.extra_head.weight"]


def test_unsupported_architectures_and_options_name_the_key(bert):
    folder, _ = bert
    _edit_config(folder, architectures=["T5ForConditionalGeneration"], model_type="t5")
    with pytest.raises(CheckpointError, match=r"architectures=\['T5ForConditionalGeneration'\].*kzoo imports MarianMTModel, "
                                              r"BertModel"):
        import_checkpoint(folder)
    _edit_config(folder, architectures=["BertForSequenceClassification"], model_type="bert",
                 position_embedding_type="relative_key")
    with pytest.raises(CheckpointError, match=r"config\.json has position_embedding_type='relative_key', which kzoo "
                                              r"does not import: kzoo's encoder has learned absolute positions"):
        import_checkpoint(folder)
    _edit_config(folder, position_embedding_type="absolute", hidden_act="mish")
    with pytest.raises(CheckpointError, match=r"hidden_act='mish'; kzoo imports the activations relu, gelu"):
        import_checkpoint(folder)


def test_kzoo_import_fails_in_one_sentence_and_writes_nothing(tmp_path):
    run_dir = tmp_path / "runs" / "bert"
    result = subprocess.run(
        [sys.executable, "-m", "kzoo.commands", "import", str(FIXTURES / "pytorch_only"), "--run-dir", str(run_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("kzoo import: ") and result.stderr.count("\n") == 1, result.stderr
    assert "pytorch_model.bin" in result.stderr
    assert not run_dir.exists() and not list(tmp_path.glob("runs/.*"))


@pytest.mark.parametrize("fixture_name, file_name", [("marian_shared", "source.spm"), ("bert_classifier", "tokenizer.json"),
                                                     ("bert_classifier", "tokenizer_config.json")])
def test_damaged_tokenizer_files_are_named_in_one_sentence(tmp_path, fixture_name, file_name):
    folder = tmp_path / fixture_name
    shutil.copytree(FIXTURES / fixture_name, folder)
    if file_name == "tokenizer_config.json":
        (folder / "tokenizer.json").unlink()  # Read only when the vocab.txt is the tokenizer.
    (folder / file_name).write_text("{ not what the library reads")
    with pytest.raises(CheckpointError) as raised:
        import_checkpoint(folder)
    message = str(raised.value)
    assert "\n" not in message and (file_name in message or "tokenizer files cannot be read" in message), message
