"""A checkpoint's `tokenizers` tokenizer (BERT's WordPiece, GPT-2's byte-level BPE) without TensorFlow or transformers.

Hugging Face's fast tokenizers are the `tokenizers` library, whose whole
pipeline (normalizer, pre-tokenizer, model, decoder) serializes to one JSON
file. This class runs that file: the ids are the checkpoint tokenizer's own.
`encode` adds no special tokens (the packing adds the model's start and end
tokens: `[CLS]` and `[SEP]` for BERT, nothing in front and `<|endoftext|>` at
the end for GPT-2); `decode` stops at the end token and skips special tokens, as
transformers' `decode(..., skip_special_tokens=True)` does.

Example:
```python
tokenizer = HuggingFaceTokenizer.from_file("bert/tokenizer.json", {"pad": 0, "unknown": 100, "start": 101, "end": 102, "mask": 103})
tokenizer.encode(["Hello world"])
```
"""

import os

from kzoo.runtime.tokenizer_format import TokenizerBase

TOKENIZER_FILE = "hugging_face_tokenizer.json"


def _library():
    try:
        import tokenizers
    except ImportError:
        raise ImportError("HuggingFaceTokenizer needs the `tokenizers` package: pip install tokenizers") from None
    return tokenizers


class HuggingFaceTokenizer(TokenizerBase):
    """The serialized `tokenizers.Tokenizer` of a checkpoint, with the checkpoint's special ids.

    Args:
        serialized: str. The tokenizer as JSON (`tokenizers.Tokenizer.to_str()`).
        special_ids: dict name -> id (some of pad, unknown, start, end, mask).
        special_tokens: dict name -> token string, for `tokenizer.json`.

    Example:
    ```python
    tokenizer = HuggingFaceTokenizer(tokenizers.Tokenizer.from_file("tokenizer.json").to_str(), {"end": 50256},
                                     {"end": "<|endoftext|>"})
    ```
    """

    type_name = "hugging_face"
    own_special_ids = True

    def __init__(self, serialized, special_ids, special_tokens=None):
        self.serialized = serialized
        self._tokenizer = _library().Tokenizer.from_str(serialized)
        self._special_ids = {name: int(value) for name, value in special_ids.items() if value is not None}
        self.special_tokens = dict(special_tokens or {})

    @classmethod
    def from_file(cls, path, special_ids, special_tokens=None):
        """The tokenizer of a `tokenizers` JSON file."""
        with open(path, encoding="utf-8") as file:
            return cls(file.read(), special_ids, special_tokens)

    @property
    def vocabulary_size(self):
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, texts):
        """Ids of each text, no special tokens added: `list[str] -> list[list[int]]`."""
        texts = self._check_texts(texts)
        return [encoding.ids for encoding in self._tokenizer.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids):
        """Text of one id sequence: stops at the end token, drops pad, start and other special tokens."""
        return self._tokenizer.decode(self._content_ids(ids), skip_special_tokens=True)

    def _extra_config(self):
        return {"tokenizer_file": TOKENIZER_FILE}

    def _save_assets(self, directory):
        with open(os.path.join(directory, TOKENIZER_FILE), "w", encoding="utf-8") as file:
            file.write(self.serialized)

    @classmethod
    def from_directory(cls, directory, config):
        """The tokenizer saved in `directory`, whose `tokenizer.json` is `config`."""
        special = config.get("special_tokens") or {}
        return cls.from_file(os.path.join(directory, config["tokenizer_file"]),
                             {name: entry["id"] for name, entry in special.items() if entry is not None},
                             {name: entry.get("token") for name, entry in special.items() if entry is not None})
