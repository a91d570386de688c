"""kzoo.data: bundled offline tasks, loaders for users' files, tokenizers, tf.data pipelines.

`import kzoo.data` does not import TensorFlow: the task registry and the
pure-Python readers load at once, while the tokenizers, pipelines and
`*_dataset` loaders import TensorFlow / keras-hub when first used (PEP 562
module `__getattr__`).

- Tasks (`kzoo.data.registry`, `kzoo.data.tasks`): `list_tasks()`,
  `load_task(name)`, `task_names()`, `DEFAULT_TRANSLATION_TASK`.
- Loaders (`kzoo.data.loaders`): `read_parallel_tsv` / `parallel_tsv_dataset`,
  `read_jsonl` / `jsonl_dataset`, `read_conll` / `conll_dataset`,
  `read_text` / `text_dataset`, `read_image_folder` / `image_folder_dataset`;
  `MalformedDataError`, `DataEncodingError`, `LoaderStats`.
- Tokenizers: `WordPieceTokenizer`, `SentencePieceTokenizer`, `ByteTokenizer`,
  `load_tokenizer(dir)`, `train_task_tokenizer(task)`; special ids
  `SPECIAL_TOKEN_IDS`.
- Pipelines (`kzoo.data.pipelines`): `translation_dataset`,
  `classification_dataset`, `tagging_dataset`, `language_modeling_dataset`,
  `masked_lm_dataset`, `image_classification_dataset`, `task_dataset`.

Example:
```python
import kzoo.data
task = kzoo.data.load_task(kzoo.data.DEFAULT_TRANSLATION_TASK)
tokenizer = kzoo.data.train_task_tokenizer(task)       # SentencePiece, 1000 pieces
train = kzoo.data.task_dataset(task, "train", tokenizer, batch_size=64)
```
"""

import importlib

from kzoo.data.errors import DataEncodingError, MalformedDataError
from kzoo.data.loader_stats import LoaderStats
from kzoo.data.loaders import (
    conll_dataset,
    image_folder_class_names,
    image_folder_dataset,
    jsonl_dataset,
    parallel_tsv_dataset,
    read_conll,
    read_image_folder,
    read_jsonl,
    read_parallel_tsv,
    read_text,
    text_dataset,
)
from kzoo.data.registry import TASK_KINDS, list_tasks, load_task, register_task, task_info, task_names
from kzoo.data.task_data import SPLIT_NAMES, TaskData
from kzoo.data.tasks.translation import DEFAULT_TRANSLATION_TASK
from kzoo.data.tokenizer import SPECIAL_TOKEN_IDS, SPECIAL_TOKEN_NAMES, Tokenizer, load_tokenizer

_LAZY = {
    "WordPieceTokenizer": "kzoo.data.word_piece_tokenizer",
    "SentencePieceTokenizer": "kzoo.data.sentence_piece_tokenizer",
    "ByteTokenizer": "kzoo.data.byte_tokenizer",
    "translation_dataset": "kzoo.data.pipelines",
    "classification_dataset": "kzoo.data.pipelines",
    "tagging_dataset": "kzoo.data.pipelines",
    "align_word_labels": "kzoo.data.pipelines",
    "language_modeling_dataset": "kzoo.data.pipelines",
    "masked_lm_dataset": "kzoo.data.pipelines",
    "image_classification_dataset": "kzoo.data.pipelines",
    "task_dataset": "kzoo.data.pipelines",
    "DEFAULT_SEQUENCE_LENGTHS": "kzoo.data.pipelines",
    "train_task_tokenizer": "kzoo.data.task_tokenizers",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kzoo.data' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DEFAULT_TRANSLATION_TASK",
    "SPECIAL_TOKEN_IDS",
    "SPECIAL_TOKEN_NAMES",
    "SPLIT_NAMES",
    "TASK_KINDS",
    "DataEncodingError",
    "LoaderStats",
    "MalformedDataError",
    "TaskData",
    "Tokenizer",
    "conll_dataset",
    "image_folder_class_names",
    "image_folder_dataset",
    "jsonl_dataset",
    "list_tasks",
    "load_task",
    "load_tokenizer",
    "parallel_tsv_dataset",
    "read_conll",
    "read_image_folder",
    "read_jsonl",
    "read_parallel_tsv",
    "read_text",
    "register_task",
    "task_info",
    "task_names",
    "text_dataset",
    *_LAZY,
]
