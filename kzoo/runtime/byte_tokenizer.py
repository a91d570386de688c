"""UTF-8 bytes shifted past kzoo's special tokens, without TensorFlow.

Byte `b` gets the id `b + 5`, which keeps ids 0-4 for pad, unknown, start, end
and mask as for every other kzoo tokenizer, at the cost of a 261-entry
vocabulary. `kzoo.data.ByteTokenizer` adds the TensorFlow op path.

Example:
```python
ByteTokenizer().encode(["hé"])                  # [[109, 200, 174]]
ByteTokenizer().decode([2, 109, 200, 174, 3])   # 'hé'
```
"""

from kzoo.runtime.tokenizer_format import SPECIAL_TOKEN_NAMES, TokenizerBase

SPECIAL_TOKENS = {"pad": "<pad>", "unknown": "<unk>", "start": "<s>", "end": "</s>", "mask": "<mask>"}
BYTE_OFFSET = len(SPECIAL_TOKEN_NAMES)


class ByteTokenizer(TokenizerBase):
    """UTF-8 bytes as ids `5 + byte`; no vocabulary to train, nothing is ever unknown.

    Sequences are 1-4 ids per character, so keep it for tiny models and short
    texts. `decode` drops special ids and replaces invalid UTF-8 with U+FFFD.

    Example:
    ```python
    tokenizer = ByteTokenizer()
    assert tokenizer.vocabulary_size == 261
    tokenizer.save("tokenizer/")   # tokenizer.json only
    ```
    """

    type_name = "byte"
    special_tokens = SPECIAL_TOKENS
    byte_offset = BYTE_OFFSET
    vocabulary_size = BYTE_OFFSET + 256

    def encode(self, texts):
        """Token ids of each text (no start/end tokens): `list[str] -> list[list[int]]`."""
        return [[byte + BYTE_OFFSET for byte in text.encode("utf-8")] for text in self._check_texts(texts)]

    def decode(self, ids):
        """Text of one id sequence: stops at the end id, drops special ids; bad UTF-8 becomes U+FFFD.

        Example: `ByteTokenizer().decode([2, 109, 3, 0])` gives `'h'`.
        """
        data = bytes(value - BYTE_OFFSET for value in self._content_ids(ids) if value >= BYTE_OFFSET)
        return data.decode("utf-8", errors="replace")

    @classmethod
    def from_directory(cls, directory, config):
        """A byte tokenizer (its folder holds only `tokenizer.json`)."""
        return cls()
