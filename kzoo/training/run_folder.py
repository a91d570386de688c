"""Run folders: what `kzoo train` and `kzoo import` write, and what evaluate, export, serve and `--init-from` read.

```
runs/<name>/
  config.json     how the run came to be: the RunConfig of a trained run, or where an imported one came from
  tokenizer/      the tokenizer (absent for images)
  model.keras     the model; a folder without it is not a finished run
  data/           the user's data file a run was given (`--data`), copied so the run stays complete
```

A run's task is a bundled task (`config["task"]`) or a data file
(`config["data"]`: a trained run tests on the tenth of it held out from training,
an imported run evaluates on all of it); `kzoo evaluate` and `kzoo export` can
name another with `task=` / `data=`, of the same kind, used whole. An imported run may have neither; export
then checks parity on token ids drawn from the vocabulary.

Example:
```python
run = load_run("runs/opus-mt-en-de", data="my_pairs.tsv")
run.model, run.tokenizer, run.task.kind
```
"""

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

CONFIG_FILE = "config.json"
MODEL_FILE = "model.keras"
TOKENIZER_DIR = "tokenizer"
DATA_DIR = "data"


@dataclasses.dataclass
class Run:
    """A finished run: `model`, `tokenizer` (or None), its `config` dict and `task` (a `TaskData` or None)."""

    path: Path
    model: object
    tokenizer: object
    config: dict
    task: object

    @property
    def kind(self):
        """What the run's model does: the task kind it was trained or imported for."""
        return self.config.get("kind")

    @property
    def label_names(self):
        names = self.config.get("label_names")
        if names is None and self.task is not None and self.task.label_names:
            names = list(self.task.label_names)
        return names


def write_json(path, value):
    """Writes `value` as JSON through a temporary file, so a reader never sees half a file."""
    temporary = Path(str(path) + ".partial")
    temporary.write_text(json.dumps(value, indent=2, default=str))
    os.replace(temporary, path)


def read_run_config(run_dir):
    """The `config.json` of a finished run; one sentence when the folder is not one."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir} is not a finished kzoo run: there is no such folder.")
    for required in (CONFIG_FILE, MODEL_FILE):
        if not (run_dir / required).exists():
            raise ValueError(f"{run_dir} is not a finished kzoo run: {required} is missing.")
    return json.loads((run_dir / CONFIG_FILE).read_text())


def resolve_task(task=None, data=None, kind=None, label_names=None, holdout=True):
    """The `TaskData` named by a bundled `task` or a `data` file (read as `kind`), or None when neither is given.

    Raises `ValueError` when both are given, or when the task's kind is not `kind`.
    """
    import kzoo.data as data_module

    if task and data:
        raise ValueError("Pass --task or --data, not both.")
    if data:
        if kind is None:
            raise ValueError(f"Reading {data} needs the task kind; pass a bundled --task instead.")
        return data_module.task_from_file(data, kind, label_names=label_names, holdout=holdout)
    if not task:
        return None
    found = data_module.load_task(task)
    if kind is not None and found.kind != kind:
        raise ValueError(f"The task {task!r} is a {found.kind} task, but this model does {kind}; pick a {kind} task.")
    return found


def load_run(run_dir, task=None, data=None):
    """A finished run (`Run`), its task the one named here, else the run's own (None when it has none).

    Args:
        run_dir: str or path. A folder `kzoo train` or `kzoo import` wrote.
        task: str or None. A bundled task to use instead of the run's.
        data: str or None. A data file to use instead (all of it is every split).
    """
    import kzoo.data as data_module
    from kzoo.training import load_model

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    kind, label_names = config.get("kind"), config.get("label_names")
    if task or data:
        chosen = resolve_task(task, data, kind, label_names, holdout=False)
    elif config.get("data"):
        # A trained run tests on the tenth of its file it held out; an imported run's file is all for evaluation.
        chosen = resolve_task(data=run_dir / config["data"], kind=kind, label_names=label_names,
                              holdout="imported_from" not in config)
    else:
        chosen = resolve_task(config.get("task"), kind=kind)
    chosen = prepared_task(chosen, config.get("preprocessing"))
    model = load_model(run_dir / MODEL_FILE)
    tokenizer = data_module.load_tokenizer(run_dir / TOKENIZER_DIR) if (run_dir / TOKENIZER_DIR).exists() else None
    return Run(run_dir, model, tokenizer, config, chosen)


def prepared_task(task, preprocessing):
    """`task` with every split's images prepared as an imported model expects (`kzoo.runtime.image_preparation`).

    Unchanged without `preprocessing` or for tasks of text.
    """
    from kzoo.runtime.image_preparation import prepare_images

    if task is None or not preprocessing or task.kind != "image_classification":
        return task
    splits = {name: [(prepare_images(image, preprocessing, pixel_range=1.0), label) for image, label in task.split(name)]
              for name in ("train", "validation", "test")}
    return dataclasses.replace(task, **splits)


def copy_data_file(path, run_dir):
    """Copies the user's data file (or image folder) into `run_dir/data/`; returns its path relative to the run."""
    path = Path(path)
    target = Path(run_dir) / DATA_DIR / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.resolve() != target.resolve():
        shutil.copytree(path, target, dirs_exist_ok=True) if path.is_dir() else shutil.copyfile(path, target)
    return str(target.relative_to(run_dir))


def write_imported_run(imported, run_dir, task=None, data=None):
    """Writes an `ImportedCheckpoint` as a finished run folder, atomically; returns the folder.

    `config.json` records where it came from (`imported_from`, `architecture`),
    what it does (`family`, `kind`, `label_names`), how it decodes (`generation`)
    and what its inputs need (`preprocessing`), and the task or data file given.

    Raises `ValueError` when `run_dir` exists, or the task does not fit the model.
    """
    run_dir = Path(run_dir)
    if run_dir.exists():
        raise ValueError(f"{run_dir} already exists; choose another --run-dir or delete it.")
    kind = imported.task_kind
    chosen = resolve_task(task, data, kind, imported.label_names, holdout=False)  # Fails before anything is written.
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{run_dir.name}.partial-", dir=run_dir.parent))
    try:
        imported.model.save(folder / MODEL_FILE)
        if imported.tokenizer is not None:
            imported.tokenizer.save(folder / TOKENIZER_DIR)
        config = {
            "imported_from": str(Path(imported.source).resolve()),
            "architecture": imported.architecture,
            "family": imported.family,
            "kind": kind,
            "task": task,
            "data": copy_data_file(data, folder) if data else None,
            "label_names": imported.label_names or (list(chosen.label_names) if chosen and chosen.label_names else None),
            "generation": imported.decoding,
            "max_new_tokens": imported.max_new_tokens,
            "preprocessing": imported.preprocessing,
            "unused_tensors": imported.unused_tensors,
            "initialized_layers": imported.initialized_layers,
        }
        write_json(folder / CONFIG_FILE, config)
        os.replace(folder, run_dir)
    finally:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
    return run_dir
