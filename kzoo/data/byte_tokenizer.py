"""Byte-level tokenizer for tiny models: UTF-8 bytes shifted past kzoo's special tokens.

Splitting text into bytes is keras-hub's `ByteTokenizer` (with its default
lowercasing turned off). Why not use it as is: it gives byte `b` the id `b`,
so ids 0-255 are all taken and there is no room for pad, unknown, start, end
and mask. kzoo adds 5 to every byte id, which keeps the special ids the same
as for every other kzoo tokenizer (0-4) at the cost of a 261-entry vocabulary.

Example:
```python
tokenizer = kzoo.data.ByteTokenizer()
tokenizer.encode(["hé"])                  # [[109, 200, 174]]
tokenizer.decode([2, 109, 200, 174, 3])   # 'hé'
```
"""

from kzoo.data.tokenizer import Tokenizer
from kzoo.runtime import byte_tokenizer as tf_free
from kzoo.runtime.byte_tokenizer import BYTE_OFFSET


class ByteTokenizer(Tokenizer, tf_free.ByteTokenizer):
    """UTF-8 bytes as ids `5 + byte`; no vocabulary to train, nothing is ever unknown.

    `kzoo.runtime.ByteTokenizer` plus keras-hub's `ByteTokenizer` layer as the
    `tf.data` op. Sequences are 1-4 ids per character, so keep it for tiny models
    and short texts. `decode` drops special ids and replaces invalid UTF-8 with U+FFFD.

    Example:
    ```python
    tokenizer = kzoo.data.ByteTokenizer()
    assert tokenizer.vocabulary_size == 261
    tokenizer.save("tokenizer/")   # tokenizer.json only
    ```
    """

    def __init__(self):
        import keras_hub

        self._layer = keras_hub.tokenizers.ByteTokenizer(lowercase=False, dtype="int32")

    def tokenize(self, texts):
        """TensorFlow op path: strings `[B]` -> `tf.RaggedTensor` `[B, None]` int32 of `byte + 5`."""
        return self._layer.tokenize(texts) + BYTE_OFFSET
