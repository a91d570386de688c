"""`load_tokenizer(directory)`: a saved tokenizer folder back as a TF-free tokenizer.

The folder is what any kzoo tokenizer's `save()` writes (`tokenizer.json` plus
vocabulary files; see `kzoo.runtime.tokenizer_format`). `types` maps the
`tokenizer.json` type to the class that loads it, so `kzoo.data` loads the same
folders into its TensorFlow-capable subclasses through this one function.

Example:
```python
from kzoo.runtime.tokenizers import load_tokenizer
tokenizer = load_tokenizer("saved_models/translator/tokenizer")
tokenizer.decode(tokenizer.encode(["three hundred and forty-seven"])[0])
```
"""

import os

from kzoo.runtime.byte_tokenizer import ByteTokenizer
from kzoo.runtime.hugging_face_tokenizer import HuggingFaceTokenizer
from kzoo.runtime.marian_tokenizer import MarianTokenizer
from kzoo.runtime.sentence_piece_tokenizer import SentencePieceTokenizer
from kzoo.runtime.tokenizer_format import CONFIG_FILE, check_special_ids, read_config
from kzoo.runtime.word_piece_tokenizer import WordPieceTokenizer

TOKENIZER_TYPES = {
    cls.type_name: cls
    for cls in (WordPieceTokenizer, SentencePieceTokenizer, ByteTokenizer, MarianTokenizer, HuggingFaceTokenizer)
}


def load_tokenizer(directory, types=None):
    """Loads a tokenizer folder saved by a kzoo tokenizer's `save()`.

    Args:
        directory: str or path. The folder, e.g. `saved_models/<name>/tokenizer`.
        types: dict of `tokenizer.json` type -> class with `from_directory`.
            Defaults to `TOKENIZER_TYPES` (the TF-free classes).

    Returns:
        A `WordPieceTokenizer`, `SentencePieceTokenizer` or `ByteTokenizer`
        (or the class `types` names).

    Example:
    ```python
    tokenizer = load_tokenizer("saved_models/translator/tokenizer")
    ```
    """
    directory = os.fspath(directory)
    types = TOKENIZER_TYPES if types is None else types
    config = read_config(directory)
    kind = config.get("type")
    if kind not in types:
        raise ValueError(
            f"Received an invalid value for argument `directory`, its {CONFIG_FILE} has type={kind!r}; expected "
            f"{' or '.join(repr(name) for name in types)}. Received: directory={directory!r}"
        )
    if not types[kind].own_special_ids:
        check_special_ids(directory, config)
    return types[kind].from_directory(directory, config)
