"""The splits of one bundled task, as plain Python lists.

Pure Python (no TensorFlow): `kzoo.data.load_task()` builds a `TaskData`, and
`kzoo.data.pipelines` turns its splits into `tf.data` pipelines.

Example:
```python
import kzoo.data
task = kzoo.data.load_task("numbers_en_de")
print(task.kind, len(task.train), task.train[0])
```
"""

import dataclasses

SPLIT_NAMES = ("train", "validation", "test")


@dataclasses.dataclass(frozen=True)
class TaskData:
    """The examples of one task, one Python list per split.

    What one example is depends on `kind`:

    | kind                   | example                                               |
    |------------------------|-------------------------------------------------------|
    | `translation`          | `(source: str, target: str)`                          |
    | `classification`       | `(text: str, label: int)`, `label_names[label]`       |
    | `tagging`              | `(tokens: tuple[str], tags: tuple[int])`, tag names in `label_names` |
    | `language_modeling`    | `text: str` (one paragraph)                           |
    | `masked_lm`            | `text: str` (one paragraph; masked by the pipeline)   |
    | `image_classification` | `(image: float32 array [H, W, C] in [0, 1], label: int)` |

    Args:
        name: str. The registered task name.
        kind: str. One of `kzoo.data.TASK_KINDS`.
        description: str. One line.
        metric: str. The default metric, a name `kzoo.metrics.compute_metric`
            accepts.
        seed: int. The seed the task was generated with.
        train: list. Training examples.
        validation: list. Validation examples.
        test: list. Test examples.
        label_names: tuple of str or None. Class or tag names for
            `classification`, `tagging` and `image_classification`; `None`
            otherwise.

    Example:
    ```python
    task = kzoo.data.load_task("faker_ner")
    tokens, tags = task.train[0]
    print([(token, task.label_names[tag]) for token, tag in zip(tokens, tags)])
    ```
    """

    name: str
    kind: str
    description: str
    metric: str
    seed: int
    train: list
    validation: list
    test: list
    label_names: tuple | None = None

    def split(self, name):
        """Returns the examples of split `name` (`train`, `validation` or `test`).

        Example:
        ```python
        kzoo.data.load_task("digits").split("test")[:2]
        ```
        """
        if name not in SPLIT_NAMES:
            raise ValueError(
                "Received an invalid value for argument `name`, expected one of "
                f"{', '.join(SPLIT_NAMES)}. Received: name={name!r}"
            )
        return getattr(self, name)

    def texts(self, split="train"):
        """Returns every string of a split, e.g. to train a tokenizer on.

        Translation gives sources then targets, tagging joins tokens with
        spaces, image classification has no text and returns `[]`.

        Example:
        ```python
        corpus = kzoo.data.load_task("numbers_en_de").texts()
        ```
        """
        examples = self.split(split)
        if self.kind == "translation":
            return [source for source, _ in examples] + [target for _, target in examples]
        if self.kind == "classification":
            return [text for text, _ in examples]
        if self.kind == "tagging":
            return [" ".join(tokens) for tokens, _ in examples]
        if self.kind in ("language_modeling", "masked_lm"):
            return list(examples)
        return []
