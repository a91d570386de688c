"""A user's data file as a `TaskData`, so every command that takes `--task` also takes `--data FILE`.

The file is read with the streaming loaders of `kzoo.data.loaders` (so a bad line
fails with its file and line number), in the format that fits the task kind:

| kind                          | file                                                            |
|-------------------------------|-----------------------------------------------------------------|
| `translation`                 | TSV `source<TAB>target`, or JSONL `{"source": ..., "target": ...}` |
| `classification`              | TSV `text<TAB>label`, or JSONL `{"text": ..., "label": ...}`    |
| `tagging`                     | CoNLL-2003 (token ... tag per line, blank line between sentences) |
| `language_modeling`, `masked_lm` | plain text, one paragraph per blank-line-separated block     |
| `image_classification`        | a folder with one subfolder of images per class                 |

Labels may be names or ids; names are mapped to `label_names` (the run's, when
fine-tuning or evaluating a run; otherwise the sorted names found in the file).

With `holdout=True` (training) every tenth example from the ninth on goes to
validation and every tenth from the tenth on to test, the rest to training: a
split by position, the same on every read. With `holdout=False` (evaluating or
exporting with someone's file) all three splits are the whole file.

Example:
```python
task = task_from_file("reviews.jsonl", "classification", label_names=["negative", "positive"])
len(task.train), task.label_names
```
"""

import os
from pathlib import Path

from kzoo.data import loaders
from kzoo.data.task_data import TaskData

FILE_KINDS = ("translation", "classification", "tagging", "language_modeling", "masked_lm", "image_classification")
_METRICS = {"translation": "bleu", "classification": "accuracy", "tagging": "entity_f1",
            "language_modeling": "perplexity", "masked_lm": "perplexity", "image_classification": "accuracy"}


def _rows(path, kind, label_names):
    """The raw examples of `path` for `kind`, read with the matching loader."""
    json_lines = path.suffix.lower() in (".jsonl", ".json")
    if kind == "translation":
        return list(loaders.read_jsonl(path) if json_lines else loaders.read_parallel_tsv(path))
    if kind == "classification":
        return list(loaders.read_jsonl(path, fields=("text", "label")) if json_lines
                    else loaders.read_parallel_tsv(path))
    if kind == "tagging":
        return list(loaders.read_conll(path))
    if kind in ("language_modeling", "masked_lm"):
        return list(loaders.read_text(path, unit="paragraph"))
    return list(loaders.read_image_folder(path, class_names=label_names))


def _label_ids(values, label_names, path, what):
    """Names (or ids) -> ids against `label_names` (found in the file when None); (ids, names)."""
    if label_names is None:
        label_names = sorted({str(value) for value in values})
    index = {name: position for position, name in enumerate(label_names)}
    ids = []
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(label_names):
            ids.append(value)
        elif str(value) in index:
            ids.append(index[str(value)])
        else:
            raise ValueError(
                f"{path} has the {what} {value!r}, which is not one of the model's {len(label_names)} "
                f"({', '.join(label_names[:8])}{', ...' if len(label_names) > 8 else ''}); fix the file or train on it."
            )
    return ids, list(label_names)


def task_from_file(path, kind, label_names=None, holdout=True):
    """A `TaskData` of kind `kind` from a user's file (see the module docstring).

    Args:
        path: str or path. The file (a folder for images).
        kind: str. One of `FILE_KINDS`.
        label_names: list of str or None. The class or tag names labels must
            belong to; None takes the sorted names found in the file.
        holdout: bool. Split by position into train / validation / test (True)
            or use the whole file as every split (False).

    Raises:
        FileNotFoundError: no such file. ValueError: an empty file, or a label
        the model does not know, in one sentence.
    """
    if kind not in FILE_KINDS:
        raise ValueError(f"Received an invalid value for argument `kind`, expected one of {', '.join(FILE_KINDS)}. "
                         f"Received: kind={kind!r}")
    path = Path(os.fspath(path))
    if not path.exists():
        raise FileNotFoundError(f"The data file {path} does not exist.")
    rows = _rows(path, kind, label_names)
    if not rows:
        raise ValueError(f"The data file {path} holds no examples.")
    names = None
    if kind in ("classification", "image_classification"):
        if kind == "image_classification" and label_names is None:
            label_names = loaders.image_folder_class_names(path)
        labels, names = _label_ids([label for _, label in rows], label_names, path, "label")
        rows = [(value, label) for (value, _), label in zip(rows, labels)]
    elif kind == "tagging":
        tags, names = _label_ids([tag for _, sentence_tags in rows for tag in sentence_tags], label_names, path, "tag")
        flat, rows_with_ids = iter(tags), []
        for tokens, sentence_tags in rows:
            rows_with_ids.append((tuple(tokens), tuple(next(flat) for _ in sentence_tags)))
        rows = rows_with_ids
    if holdout:
        train = [row for position, row in enumerate(rows) if position % 10 < 8]
        validation, test = rows[8::10], rows[9::10]
        if not validation or not test:
            raise ValueError(f"The data file {path} has {len(rows)} examples; training needs at least 10 "
                             "(every tenth goes to validation and to test).")
    else:
        train = validation = test = rows
    return TaskData(name=path.stem, kind=kind, description=f"examples read from {path.name}", metric=_METRICS[kind],
                    seed=0, train=list(train), validation=list(validation), test=list(test),
                    label_names=tuple(names) if names is not None else None)
