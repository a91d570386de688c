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


def test_the_runtime_runs_on_python_3_12_where_triton_runs_it():
    """Triton's containers run kzoo.runtime (the Python-backend model) on Python 3.12: no module 3.12 removed, and
    where a working python3.12 is at hand, every source compiles with it."""
    import ast
    import shutil
    import subprocess

    removed = {"distutils", "imp", "asynchat", "asyncore", "smtpd"}  # PEP 594 / 632: gone in Python 3.12.
    sources = sorted((ROOT / "kzoo" / "runtime").glob("*.py")) + [ROOT / "kzoo" / "serve" / "triton_model.py.template"]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not {name.split(".")[0] for name in names} & removed, (path.name, names)
    python = shutil.which("python3.12")
    if python is None or subprocess.run([python, "-c", "pass"], capture_output=True).returncode != 0:
        return  # The static check above is what this machine can do.
    check = "import sys\nfor path in sys.argv[1:]:\n    compile(open(path, encoding='utf-8').read(), path, 'exec')\n"
    result = subprocess.run([python, "-c", check, *map(str, sources)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
