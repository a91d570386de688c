"""The TensorFlow side of every kzoo tokenizer: the `tf.data` op path on top of the TF-free tokenizers.

A kzoo tokenizer is a `kzoo.runtime` tokenizer (fixed special ids, Python
`encode` / `decode`, `save(dir)` in the `tokenizer.json` format) plus what
training needs: `tokenize`, a TensorFlow op usable inside `tf.data`, and an
`encode` that runs those same ops, so the ids of a Python call are the ids the
pipelines feed the model. `kzoo.data.WordPieceTokenizer` and its siblings
combine this mixin with their TF-free class (`kzoo.runtime.word_piece_tokenizer`
and so on); the format, the special ids and the decoding rules live there, once,
and a bundle's runtime reads what training wrote. See
`kzoo.runtime.tokenizer_format` for the special tokens table.

Example:
```python
tokenizer = kzoo.data.SentencePieceTokenizer.train(texts, vocabulary_size=1000)
tokenizer.save("saved_models/translator/tokenizer")
same = kzoo.data.load_tokenizer("saved_models/translator/tokenizer")
assert same.encode(["forty-two"]) == tokenizer.encode(["forty-two"])
```
"""

from kzoo.runtime.tokenizer_format import CONFIG_FILE, SPECIAL_TOKEN_IDS, SPECIAL_TOKEN_NAMES, TokenizerBase

__all__ = ["CONFIG_FILE", "SPECIAL_TOKEN_IDS", "SPECIAL_TOKEN_NAMES", "Tokenizer"]
_ENCODE_CHUNK = 4096


class Tokenizer(TokenizerBase):
    """Mixin of the TensorFlow op path; subclasses build `self._layer` (a keras-hub tokenizer layer).

    Example:
    ```python
    tokenizer = kzoo.data.ByteTokenizer()
    ids = tokenizer.encode(["héllo", ""])         # [[109, 200, 174, 113, 113, 116], []]
    ragged = tokenizer.tokenize(tf.constant(["héllo"]))  # tf.RaggedTensor, for tf.data
    tokenizer.decode(ids[0])                       # 'héllo'
    ```
    """

    def tokenize(self, texts):
        """TensorFlow op path: strings `[B]` -> `tf.RaggedTensor` `[B, None]` int32 (a scalar gives `[None]`).

        Runs the keras-hub layer's TensorFlow implementation; call it inside
        `tf.data.Dataset.map` or a `tf.function`. No start/end tokens are added.
        """
        return self._layer.tokenize(texts)

    def _tokenize_function(self):
        if getattr(self, "_compiled_tokenize", None) is None:
            import tensorflow as tf

            self._compiled_tokenize = tf.function(
                self.tokenize, input_signature=[tf.TensorSpec([None], tf.string)], autograph=False
            )
        return self._compiled_tokenize

    def encode(self, texts):
        """Token ids of each text, through the TensorFlow ops: `list[str] -> list[list[int]]`.

        No start/end tokens are added. Example: `tokenizer.encode(["a b", ""])`.
        """
        texts = self._check_texts(texts)
        import tensorflow as tf

        tokenize = self._tokenize_function()
        ids = []
        for start in range(0, len(texts), _ENCODE_CHUNK):
            chunk = tf.constant(texts[start : start + _ENCODE_CHUNK], dtype=tf.string)
            ids.extend(tokenize(chunk).to_list())
        return ids
