"""The `tf.data` op path of a tokenizer whose encoding is Python: `tf.numpy_function` over its `encode`.

SentencePiece (the `sentencepiece` package) and a checkpoint's own tokenizers
(`tokenizers`, Marian's SentencePiece pair) encode in Python libraries, not in
TensorFlow ops. `tokenize` runs the tokenizer's own `encode` on whole chunks of
strings inside `tf.numpy_function`, so the ids the pipelines feed a model are
exactly the ids the TF-free runtime computes from the same files. The op cannot
be saved inside a SavedModel graph; bundles ship the tokenizer files instead.

Example:
```python
dataset = tf.data.Dataset.from_tensor_slices(texts).batch(256).map(tokenizer.tokenize)
```
"""

import itertools

import numpy as np

from kzoo.runtime.tokenizer_format import TokenizerBase


class PythonTokenizer(TokenizerBase):
    """Mixin: `tokenize` (a TensorFlow op) from the Python `encode` of the class it is mixed into.

    Example:
    ```python
    class SentencePieceTokenizer(PythonTokenizer, kzoo.runtime.SentencePieceTokenizer): ...
    ragged = tokenizer.tokenize(tf.constant(["twenty-two"]))   # tf.RaggedTensor [1, None] int32
    ```
    """

    def _encode_numpy(self, texts):
        """numpy bytes `[N]` -> (int32 flat ids, int64 row lengths), for `tf.numpy_function`."""
        ids = self.encode([text.decode("utf-8", errors="replace") for text in texts.tolist()])
        lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
        values = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
        return values, lengths

    def tokenize(self, texts):
        """TensorFlow op path: strings `[B]` -> `tf.RaggedTensor` `[B, None]` int32 (a scalar gives `[None]`).

        No start/end tokens are added.
        """
        import tensorflow as tf

        texts = tf.convert_to_tensor(texts, dtype=tf.string)
        scalar = texts.shape.rank == 0
        values, lengths = tf.numpy_function(
            self._encode_numpy, [tf.reshape(texts, [-1])], [tf.int32, tf.int64], stateful=False, name="python_encode"
        )
        values.set_shape([None])
        lengths.set_shape([None])
        ragged = tf.RaggedTensor.from_row_lengths(values, lengths, validate=False)
        return ragged[0] if scalar else ragged
