"""Execute a tutorial notebook from `notebooks/` in quick mode and return the executed copy.

The notebook is read from the repository, executed by nbclient in a fresh
temporary folder (its working directory, so whatever it writes lands there)
and never written back: the saved notebook with its outputs stays as it is.
The kernel runs this interpreter (the project's virtualenv) with
`KZOO_NOTEBOOK_QUICK=1`, so every notebook trains for a few steps only, and
with the repository root first on `PYTHONPATH`, so it imports the code under
test. A cell that raises fails the test with that cell's source and traceback.

The helpers below read what an executed notebook shows: the text and images a
cell produced, found by the cell's tag (`metadata.tags`), and a `summary` dict
that a tutorial displays in its last cell.

Example:
```python
from tests.notebooks.runner import cell_by_tag, execute_notebook, summary

notebook = execute_notebook("01_text_classification.ipynb")
assert summary(notebook)["test_accuracy"] > 0.5
```
"""

import ast
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPOSITORY / "notebooks"
DEFAULT_TIMEOUT = 600  # Seconds per cell.
_ANSI_COLOURS = re.compile(r"\x1b\[[0-9;]*m")
_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}


def _kernel_environment():
    env = os.environ.copy()
    env["KZOO_NOTEBOOK_QUICK"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    env.pop("MPLBACKEND", None)  # ipykernel then picks its inline backend, so figures become outputs.
    return env


def _use_this_python(client):
    """Point the `python3` kernel at this interpreter whatever its kernelspec says."""
    manager = client.create_kernel_manager()
    argv = manager.kernel_spec.argv
    if argv and argv[0] not in _PYTHON_NAMES:  # jupyter_client maps these names to sys.executable itself.
        argv[0] = sys.executable
    return manager


def execute_notebook(name, timeout=None):
    """Runs `notebooks/<name>` in quick mode; returns the executed notebook (an nbformat node).

    Args:
        name: str. The notebook's file name, e.g. `"01_text_classification.ipynb"`.
        timeout: int or None. Seconds any one cell may take. Defaults to 600.

    Fails the calling test (`pytest.fail`) with the cell's error when a cell raises.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = NOTEBOOKS / name
    if not path.is_file():
        raise FileNotFoundError(f"Received an invalid value for argument `name`, no notebook {path.name} in notebooks/. Received: name={name!r}")
    with tempfile.TemporaryDirectory(prefix="kzoo-notebook-") as folder:
        copy = Path(folder) / path.name
        shutil.copyfile(path, copy)
        notebook = nbformat.read(copy, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=timeout or DEFAULT_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": folder}},
        )
        client.km = _use_this_python(client)
        failure = None
        try:
            client.execute(env=_kernel_environment())
        except (CellExecutionError, CellTimeoutError) as error:
            failure = _ANSI_COLOURS.sub("", str(error))
    if failure is not None:  # Outside the `except`, so pytest shows the cell's error once.
        pytest.fail(f"{name}: a cell failed in quick mode.\n{failure}", pytrace=False)
    return notebook


def output_text(cell):
    """Everything a code cell printed or displayed as text, joined (stdout, results, errors)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
        elif output.get("output_type") == "error":
            parts.append("\n".join(output.get("traceback", [])))
    return "\n".join(parts)


def images(cell):
    """The PNG images (base64 strings) a code cell displayed."""
    return [
        output["data"]["image/png"]
        for output in cell.get("outputs", [])
        if output.get("output_type") in ("execute_result", "display_data") and "image/png" in output.get("data", {})
    ]


def cell_by_tag(notebook, tag):
    """The one code cell tagged `tag` in its metadata."""
    cells = [cell for cell in notebook.cells if tag in cell.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise AssertionError(f"Expected one cell tagged {tag!r}, found {len(cells)}.")
    return cells[0]


def summary(notebook, tag="summary"):
    """The dict that the cell tagged `tag` displays as its result (a Python literal)."""
    cell = cell_by_tag(notebook, tag)
    results = [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]
    if not results:
        raise AssertionError(f"The cell tagged {tag!r} displayed no result.")
    return ast.literal_eval(results[-1]["data"]["text/plain"])
