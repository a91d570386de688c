"""The registry of bundled tasks: `register_task`, `list_tasks`, `load_task`.

Pure Python (no TensorFlow), so `kzoo list --tasks` answers quickly. Each
built-in task lives in one module of `kzoo.data.tasks` and registers itself
when that package is imported; its heavy dependencies (num2words, babel,
faker, scikit-learn) are imported only when the task is generated. Generated
tasks are cached in memory with `functools.lru_cache`.

Example:
```python
import kzoo.data
for row in kzoo.data.list_tasks():
    print(row["name"], row["kind"], row["train"])
task = kzoo.data.load_task("numbers_en_de")
```
"""

import dataclasses
import difflib
import functools

from kzoo.data.task_data import TaskData

TASK_KINDS = (
    "translation",
    "classification",
    "tagging",
    "language_modeling",
    "masked_lm",
    "image_classification",
)

_REGISTRY = {}


@dataclasses.dataclass(frozen=True)
class _TaskSpec:
    name: str
    kind: str
    description: str
    metric: str
    seed: int
    builder: object  # callable(seed) -> (train, validation, test, label_names)
    split_sizes: object  # callable() -> (train, validation, test), cheap


def register_task(name, *, kind, description, metric, seed, builder, split_sizes):
    """Registers a task so `list_tasks()` and `load_task()` know it.

    Args:
        name: str. Unique task name, e.g. `"numbers_en_de"`.
        kind: str. One of `TASK_KINDS`.
        description: str. One line shown by `kzoo list --tasks`.
        metric: str. The default metric name, e.g. `"bleu"`.
        seed: int. Passed to `builder`; the task is a pure function of it.
        builder: callable. `builder(seed)` returns
            `(train, validation, test, label_names)`.
        split_sizes: callable. Returns `(train, validation, test)` sizes
            without generating the data.

    Example:
    ```python
    kzoo.data.register_task(
        "echo", kind="translation", description="Copy the input.",
        metric="bleu", seed=0,
        builder=lambda seed: ([("a", "a")], [("b", "b")], [("c", "c")], None),
        split_sizes=lambda: (1, 1, 1),
    )
    ```
    """
    if kind not in TASK_KINDS:
        raise ValueError(
            "Received an invalid value for argument `kind`, expected one of "
            f"{', '.join(TASK_KINDS)}. Received: kind={kind!r}"
        )
    if name in _REGISTRY:
        raise ValueError(
            f"Received an invalid value for argument `name`, a task with this name "
            f"is already registered. Received: name={name!r}"
        )
    _REGISTRY[name] = _TaskSpec(name, kind, description, metric, seed, builder, split_sizes)


def _ensure_builtin_tasks():
    import kzoo.data.tasks  # noqa: F401  (each task module registers itself on import)


def task_names():
    """Returns the sorted names of every registered task.

    Example:
    ```python
    assert "digits" in kzoo.data.task_names()
    ```
    """
    _ensure_builtin_tasks()
    return sorted(_REGISTRY)


def list_tasks():
    """Returns one row (a dict) per registered task, without generating any data.

    Keys: `name`, `kind`, `description`, `metric`, `seed`, `train`,
    `validation`, `test` (the split sizes).

    Example:
    ```python
    for row in kzoo.data.list_tasks():
        print(f"{row['name']:<20} {row['kind']:<20} {row['train']:>6} {row['description']}")
    ```
    """
    _ensure_builtin_tasks()
    rows = []
    for name in sorted(_REGISTRY):
        spec = _REGISTRY[name]
        train, validation, test = spec.split_sizes()
        rows.append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "description": spec.description,
                "metric": spec.metric,
                "seed": spec.seed,
                "train": train,
                "validation": validation,
                "test": test,
            }
        )
    return rows


def _spec(name):
    _ensure_builtin_tasks()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Received an invalid value for argument `name`, expected a registered task "
            f"name (see kzoo.data.task_names()). Received: name={name!r}.{hint}"
        )
    return _REGISTRY[name]


def task_info(name):
    """Returns the `list_tasks()` row of one task, without generating its data.

    Example:
    ```python
    kzoo.data.task_info("digits")["kind"]  # "image_classification"
    ```
    """
    spec = _spec(name)
    return next(row for row in list_tasks() if row["name"] == spec.name)


@functools.lru_cache(maxsize=None)
def _generate(name):
    spec = _REGISTRY[name]
    train, validation, test, label_names = spec.builder(spec.seed)
    return tuple(train), tuple(validation), tuple(test), label_names


def load_task(name):
    """Generates (once per process) and returns the splits of a bundled task.

    Generation is deterministic: the same name gives the same examples in the
    same order on every call and every machine with the same package versions.
    Each call returns fresh lists, so changing them does not change the cache.

    Args:
        name: str. A name from `task_names()`.

    Returns:
        A `TaskData`.

    Example:
    ```python
    task = kzoo.data.load_task("numbers_en_de")
    source, target = task.test[0]
    ```
    """
    spec = _spec(name)
    train, validation, test, label_names = _generate(spec.name)
    return TaskData(
        name=spec.name,
        kind=spec.kind,
        description=spec.description,
        metric=spec.metric,
        seed=spec.seed,
        train=list(train),
        validation=list(validation),
        test=list(test),
        label_names=tuple(label_names) if label_names is not None else None,
    )
