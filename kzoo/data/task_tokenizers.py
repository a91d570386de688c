"""`train_task_tokenizer`: a tokenizer fitted to a bundled task's training text.

The `kzoo.data` tokenizer classes do the work (SentencePiece through the
`sentencepiece` package, WordPiece through keras-hub and `tokenizers`); this
module only picks sizes that suit each task kind and caches the result per
process.

Example:
```python
tokenizer = kzoo.data.train_task_tokenizer("numbers_en_de")   # SentencePiece, 1000 pieces
tokenizer.save("saved_models/translator/tokenizer")
```
"""

import functools

ALGORITHMS = ("sentence_piece", "word_piece", "byte")
# Vocabulary sizes that the bundled tasks fill without many single-use pieces.
DEFAULT_VOCABULARY_SIZES = {"translation": 1000, "classification": 2000, "tagging": 2000, "language_modeling": 4000}


def train_task_tokenizer(task, algorithm="sentence_piece", vocabulary_size=None):
    """Trains (once per process and arguments) a tokenizer on a task's training split.

    Args:
        task: str or `TaskData`. A bundled text task.
        algorithm: str. `"sentence_piece"` (default: lossless decoding, the
            right choice for translation targets), `"word_piece"` or `"byte"`.
        vocabulary_size: int or None. Defaults to
            `DEFAULT_VOCABULARY_SIZES[task.kind]`; ignored for `"byte"`.

    Returns:
        A `SentencePieceTokenizer`, `WordPieceTokenizer` or `ByteTokenizer`.

    Example:
    ```python
    tokenizer = kzoo.data.train_task_tokenizer("faker_ner", "word_piece", 3000)
    ```
    """
    name = task if isinstance(task, str) else task.name
    if algorithm not in ALGORITHMS:
        raise ValueError(
            f"Received an invalid value for argument `algorithm`, expected one of {', '.join(ALGORITHMS)}. "
            f"Received: algorithm={algorithm!r}"
        )
    return _train(name, algorithm, vocabulary_size)


@functools.lru_cache(maxsize=None)
def _train(name, algorithm, vocabulary_size):
    from kzoo.data.registry import load_task

    task = load_task(name)
    if task.kind == "image_classification":
        raise ValueError(
            f"Received an invalid value for argument `task`, {name!r} has images, not text. Received: task={name!r}"
        )
    if algorithm == "byte":
        from kzoo.data.byte_tokenizer import ByteTokenizer

        return ByteTokenizer()
    size = vocabulary_size or DEFAULT_VOCABULARY_SIZES[task.kind]
    if algorithm == "word_piece":
        from kzoo.data.word_piece_tokenizer import WordPieceTokenizer

        return WordPieceTokenizer.train(task.texts(), size)
    from kzoo.data.sentence_piece_tokenizer import SentencePieceTokenizer

    return SentencePieceTokenizer.train(task.texts(), size)
