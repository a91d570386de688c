"""kzoo.data: bundled offline tasks, loaders for users' files, tokenizers, tf.data pipelines.

`import kzoo.data` does not import TensorFlow: the task registry and the
pure-Python readers load at once, while the tokenizers, pipelines and
`*_dataset` loaders import TensorFlow / keras-hub when first used (PEP 562
module `__getattr__`).

- Tasks (`kzoo.data.registry`, `kzoo.data.tasks`): `list_tasks()`,
  `load_task(name)`, `task_names()`, `DEFAULT_TRANSLATION_TASK`; a user's file
  as a task: `task_from_file(path, kind)`.
- Loaders (`kzoo.data.loaders`): `read_parallel_tsv` / `parallel_tsv_dataset`,
  `read_jsonl` / `jsonl_dataset`, `read_conll` / `conll_dataset`,
  `read_text` / `text_dataset`, `read_image_folder` / `image_folder_dataset`;
  `MalformedDataError`, `DataEncodingError`, `LoaderStats`.
- Tokenizers: `WordPieceTokenizer`, `SentencePieceTokenizer`, `ByteTokenizer`,
  a checkpoint's own (`MarianTokenizer`, `HuggingFaceTokenizer`),
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
from kzoo.data.file_task import task_from_file
from kzoo.data.registry import TASK_KINDS, list_tasks, load_task, register_task, task_info, task_names
from kzoo.data.task_data import SPLIT_NAMES, TaskData
from kzoo.data.tasks.translation import DEFAULT_TRANSLATION_TASK
from kzoo.data.tokenizer import SPECIAL_TOKEN_IDS, SPECIAL_TOKEN_NAMES, Tokenizer

_LAZY = {
    "WordPieceTokenizer": "word_piece_tokenizer",
    "SentencePieceTokenizer": "sentence_piece_tokenizer",
    "ByteTokenizer": "byte_tokenizer",
    "load_tokenizer": "tokenizer_types",
    "MarianTokenizer": "marian_tokenizer",
    "HuggingFaceTokenizer": "hugging_face_tokenizer",
    "PythonTokenizer": "python_tokenizer",
    "translation_dataset": "pipelines",
    "classification_dataset": "pipelines",
    "tagging_dataset": "pipelines",
    "align_word_labels": "pipelines",
    "language_modeling_dataset": "pipelines",
    "masked_lm_dataset": "pipelines",
    "image_classification_dataset": "pipelines",
    "task_dataset": "pipelines",
    "DEFAULT_SEQUENCE_LENGTHS": "pipelines",
    "train_task_tokenizer": "task_tokenizers",
}


def _submodule(module):
    """The submodule `module` of kzoo.data, imported on first use (static imports: the layout test reads them)."""
    if module == "word_piece_tokenizer":
        from kzoo.data import word_piece_tokenizer as found
    elif module == "sentence_piece_tokenizer":
        from kzoo.data import sentence_piece_tokenizer as found
    elif module == "byte_tokenizer":
        from kzoo.data import byte_tokenizer as found
    elif module == "tokenizer_types":
        from kzoo.data import tokenizer_types as found
    elif module == "marian_tokenizer":
        from kzoo.data import marian_tokenizer as found
    elif module == "hugging_face_tokenizer":
        from kzoo.data import hugging_face_tokenizer as found
    elif module == "python_tokenizer":
        from kzoo.data import python_tokenizer as found
    elif module == "pipelines":
        from kzoo.data import pipelines as found
    else:
        from kzoo.data import task_tokenizers as found
    return found


def __getattr__(name):
    if name in _LAZY:
        value = getattr(_submodule(_LAZY[name]), name)
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
    "parallel_tsv_dataset",
    "read_conll",
    "read_image_folder",
    "read_jsonl",
    "read_parallel_tsv",
    "read_text",
    "register_task",
    "task_from_file",
    "task_info",
    "task_names",
    "text_dataset",
    *_LAZY,
]
