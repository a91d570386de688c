"""`load_tokenizer(directory)`: a saved tokenizer folder back as a TensorFlow-capable kzoo tokenizer.

The same loader as the runtime's (`kzoo.runtime.tokenizers.load_tokenizer`), given
the `kzoo.data` classes, so both sides read a folder by one set of rules.

Example:
```python
tokenizer = kzoo.data.load_tokenizer("saved_models/translator/tokenizer")
```
"""

from kzoo.data.byte_tokenizer import ByteTokenizer
from kzoo.data.hugging_face_tokenizer import HuggingFaceTokenizer
from kzoo.data.marian_tokenizer import MarianTokenizer
from kzoo.data.sentence_piece_tokenizer import SentencePieceTokenizer
from kzoo.data.word_piece_tokenizer import WordPieceTokenizer
from kzoo.runtime import tokenizers

TOKENIZER_TYPES = {
    cls.type_name: cls
    for cls in (WordPieceTokenizer, SentencePieceTokenizer, ByteTokenizer, MarianTokenizer, HuggingFaceTokenizer)
}


def load_tokenizer(directory):
    """Loads a tokenizer saved with `save(directory)`.

    Args:
        directory: str. A folder holding `tokenizer.json`.

    Returns:
        A `kzoo.data` `WordPieceTokenizer`, `SentencePieceTokenizer` or `ByteTokenizer`.

    Example:
    ```python
    tokenizer = kzoo.data.load_tokenizer("saved_models/translator/tokenizer")
    ```
    """
    return tokenizers.load_tokenizer(directory, types=TOKENIZER_TYPES)
