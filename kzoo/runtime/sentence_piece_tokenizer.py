"""SentencePiece without TensorFlow: the `sentencepiece` package over a kzoo model file.

The same C++ library does the work on both sides: `kzoo.data.SentencePieceTokenizer`
extends this class with training and a `tf.data` op path that calls the same
processor, so the ids a bundle's runtime computes are the ids training saw.

Example:
```python
tokenizer = SentencePieceTokenizer.from_file("saved_models/translator/tokenizer/sentencepiece.model")
tokenizer.decode(tokenizer.encode(["vingt-deux"])[0])  # 'vingt-deux'
```
"""

import os

from kzoo.runtime.tokenizer_format import SPECIAL_TOKEN_NAMES, TokenizerBase

MODEL_FILE = "sentencepiece.model"
SPECIAL_TOKENS = {"pad": "<pad>", "unknown": "<unk>", "start": "<s>", "end": "</s>", "mask": "<mask>"}


class SentencePieceTokenizer(TokenizerBase):
    """SentencePiece sub-words (Kudo & Richardson 2018) with fixed special ids 0-4.

    Lossless up to the model's normalization (NFKC, collapsed whitespace), so
    `decode(encode(text))` gives the text back: the tokenizer to use for
    translation targets.

    Args:
        proto: bytes. A serialized SentencePiece model whose first five pieces
            are `<pad>`, `<unk>`, `<s>`, `</s>`, `<mask>` (what
            `kzoo.data.SentencePieceTokenizer.train` makes).

    Example:
    ```python
    tokenizer = SentencePieceTokenizer(open("sentencepiece.model", "rb").read())
    tokenizer.encode(["twenty-two"])
    ```

    References:
        - [Kudo and Richardson, 2018](https://arxiv.org/abs/1808.06226)
    """

    type_name = "sentence_piece"
    special_tokens = SPECIAL_TOKENS

    def __init__(self, proto):
        try:
            import sentencepiece
        except ImportError:
            raise ImportError("SentencePieceTokenizer needs the `sentencepiece` package: pip install sentencepiece") from None
        if not isinstance(proto, bytes):
            raise ValueError(
                f"Received an invalid value for argument `proto`, expected the bytes of a SentencePiece model. "
                f"Received: type(proto)={type(proto).__name__}"
            )
        self.proto = proto
        self._processor = sentencepiece.SentencePieceProcessor(model_proto=proto)
        pieces = [self._processor.id_to_piece(i) for i in range(min(5, self._processor.get_piece_size()))]
        expected = [SPECIAL_TOKENS[name] for name in SPECIAL_TOKEN_NAMES]
        if pieces != expected:
            raise ValueError(
                f"Received an invalid value for argument `proto`, expected its first pieces to be {expected} "
                f"(train it with kzoo.data.SentencePieceTokenizer.train). Received: {pieces}"
            )

    @classmethod
    def from_file(cls, path):
        """The tokenizer of a `.model` file."""
        with open(path, "rb") as file:
            return cls(file.read())

    @property
    def vocabulary_size(self):
        return self._processor.get_piece_size()

    def encode(self, texts):
        """Token ids of each text (no start/end tokens): `list[str] -> list[list[int]]`."""
        texts = self._check_texts(texts)
        if not texts:
            return []
        return [list(ids) for ids in self._processor.encode(texts, out_type=int)]

    def decode(self, ids):
        """Text of one id sequence: stops at `</s>`, drops `<pad>`/`<s>`.

        Example: `tokenizer.decode(tokenizer.encode(["vingt-deux"])[0])`.
        """
        return self._processor.decode(self._content_ids(ids))

    def _extra_config(self):
        return {"model_file": MODEL_FILE}

    def _save_assets(self, directory):
        with open(os.path.join(directory, MODEL_FILE), "wb") as file:
            file.write(self.proto)

    @classmethod
    def from_directory(cls, directory, config):
        """The tokenizer saved in `directory`, whose checked `tokenizer.json` is `config`."""
        return cls.from_file(os.path.join(directory, config["model_file"]))
