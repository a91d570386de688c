"""What each install target pulls in: a serving host gets no TensorFlow or Keras."""

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"tensorflow", "keras", "keras-hub", "keras-nlp", "tensorflow-text", "tf2onnx", "tf-keras", "torch"}


def _requirements(text):
    return {re.split(r"[<>=!~\[ ;]", line.strip(), maxsplit=1)[0].lower() for line in text.splitlines() if line.strip()}


def _setup():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config


def test_the_base_install_and_the_serve_extra_pull_no_tensorflow():
    config = _setup()
    base = _requirements(config["options"]["install_requires"])
    serve = _requirements(config["options.extras_require"]["serve"])
    assert not (base | serve) & HEAVY, (base | serve) & HEAVY


def test_the_zoo_extra_carries_the_training_stack_and_the_makefile_installs_it():
    config = _setup()
    zoo = _requirements(config["options.extras_require"]["zoo"])
    assert {"tensorflow", "keras", "keras-hub", "tf2onnx", "onnxruntime", "ai-edge-litert"} <= zoo
    assert '.[zoo,serve,test,notebooks]' in (ROOT / "Makefile").read_text()


def test_the_serve_extra_covers_what_the_runtime_and_server_import():
    serve = _requirements(_setup()["options.extras_require"]["serve"])
    assert {"onnxruntime", "ai-edge-litert", "sentencepiece", "fastapi", "uvicorn", "pydantic"} <= serve
