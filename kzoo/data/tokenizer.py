"""The interface every kzoo tokenizer shares, and `load_tokenizer()`.

A kzoo tokenizer wraps a keras-hub tokenizer layer (the TensorFlow op path,
usable inside `tf.data`) and adds what training and serving both need: fixed
special-token ids, Python `encode`/`decode`, and `save(dir)` / `load(dir)` in a
format (`tokenizer.json` + vocabulary files) that the TF-free twin
`export.runtime.tokenizers.load_tokenizer` reads with identical ids.

Special tokens and their ids are the same for every tokenizer:

| name    | id | WordPiece | SentencePiece | bytes   |
|---------|----|-----------|---------------|---------|
| pad     | 0  | `[PAD]`   | `<pad>`       | `<pad>` |
| unknown | 1  | `[UNK]`   | `<unk>`       | `<unk>` |
| start   | 2  | `[START]` | `<s>`         | `<s>`   |
| end     | 3  | `[END]`   | `</s>`        | `</s>`  |
| mask    | 4  | `[MASK]`  | `<mask>`      | `<mask>`|

Special tokens are never produced from input text (a literal "[MASK]" in the
text is split like any other text): they are added by the pipelines.

Example:
```python
tokenizer = kzoo.data.SentencePieceTokenizer.train(texts, vocabulary_size=1000)
tokenizer.save("saved_models/translator/tokenizer")
same = kzoo.data.load_tokenizer("saved_models/translator/tokenizer")
assert same.encode(["forty-two"]) == tokenizer.encode(["forty-two"])
```
"""

import json
import os

SPECIAL_TOKEN_NAMES = ("pad", "unknown", "start", "end", "mask")
SPECIAL_TOKEN_IDS = {name: index for index, name in enumerate(SPECIAL_TOKEN_NAMES)}
CONFIG_FILE = "tokenizer.json"
FORMAT_VERSION = 1
_ENCODE_CHUNK = 4096


class Tokenizer:
    """Base class: the common interface of WordPiece, SentencePiece and byte tokenizers.

    Subclasses set `type_name` and `special_tokens` (name -> token string),
    build `self._layer` (a keras-hub tokenizer) and implement `decode`,
    `_vocabulary_size`, `_extra_config` and `_save_assets`.

    Attributes:
        vocabulary_size: int. Number of ids, special tokens included.
        pad_id, unknown_id, start_id, end_id, mask_id: int. 0, 1, 2, 3, 4.

    Example:
    ```python
    tokenizer = kzoo.data.ByteTokenizer()
    ids = tokenizer.encode(["héllo", ""])         # [[109, 200, 174, 113, 113, 116], []]
    ragged = tokenizer.tokenize(tf.constant(["héllo"]))  # tf.RaggedTensor, for tf.data
    tokenizer.decode(ids[0])                       # 'héllo'
    ```
    """

    type_name = None
    special_tokens = None
    pad_id = SPECIAL_TOKEN_IDS["pad"]
    unknown_id = SPECIAL_TOKEN_IDS["unknown"]
    start_id = SPECIAL_TOKEN_IDS["start"]
    end_id = SPECIAL_TOKEN_IDS["end"]
    mask_id = SPECIAL_TOKEN_IDS["mask"]

    @property
    def vocabulary_size(self):
        return self._vocabulary_size()

    def _vocabulary_size(self):
        raise NotImplementedError

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
        if isinstance(texts, (str, bytes)) or not all(isinstance(text, str) for text in texts):
            raise TypeError(
                f"Received an invalid value for argument `texts`, expected a list of str. Received: texts={texts!r:.80}"
            )
        import tensorflow as tf

        texts = list(texts)
        tokenize = self._tokenize_function()
        ids = []
        for start in range(0, len(texts), _ENCODE_CHUNK):
            chunk = tf.constant(texts[start : start + _ENCODE_CHUNK], dtype=tf.string)
            ids.extend(tokenize(chunk).to_list())
        return ids

    def decode(self, ids):
        """Text of one id sequence: stops at the first end id and drops pad and start ids."""
        raise NotImplementedError

    def decode_batch(self, batch):
        """`decode` of every row: `list[list[int]]` (or a 2-D array) -> `list[str]`."""
        return [self.decode(ids) for ids in batch]

    def _content_ids(self, ids):
        if hasattr(ids, "numpy"):
            ids = ids.numpy()
        kept = []
        size = self.vocabulary_size
        for value in ids:
            value = int(value)
            if not 0 <= value < size:
                raise ValueError(
                    f"Received an invalid value for argument `ids`, expected ids in [0, {size}). Received: {value}"
                )
            if value == self.end_id:
                break
            if value not in (self.pad_id, self.start_id):
                kept.append(value)
        return kept

    def config(self):
        """The `tokenizer.json` content: type, format version, special tokens and options."""
        return {
            "format_version": FORMAT_VERSION,
            "type": self.type_name,
            "vocabulary_size": self.vocabulary_size,
            "special_tokens": {
                name: {"token": self.special_tokens[name], "id": SPECIAL_TOKEN_IDS[name]} for name in SPECIAL_TOKEN_NAMES
            },
            **self._extra_config(),
        }

    def _extra_config(self):
        return {}

    def _save_assets(self, directory):
        pass

    def save(self, directory):
        """Writes `tokenizer.json` and the vocabulary files into `directory` (created if missing).

        Example: `tokenizer.save("saved_models/translator/tokenizer")`.
        """
        directory = os.fspath(directory)
        os.makedirs(directory, exist_ok=True)
        self._save_assets(directory)
        with open(os.path.join(directory, CONFIG_FILE), "w", encoding="utf-8") as file:
            json.dump(self.config(), file, indent=2, ensure_ascii=False)
            file.write("\n")

    @staticmethod
    def load(directory):
        """Same as `kzoo.data.load_tokenizer(directory)`."""
        return load_tokenizer(directory)

    def __repr__(self):
        return f"{type(self).__name__}(vocabulary_size={self.vocabulary_size})"


def read_config(directory):
    """Reads and checks `tokenizer.json` of a saved tokenizer folder.

    Example: `read_config("saved_models/translator/tokenizer")["type"]`.
    """
    directory = os.fspath(directory)
    path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Received an invalid value for argument `directory`, it has no {CONFIG_FILE}. Received: directory={directory!r}"
        )
    with open(path, encoding="utf-8") as file:
        config = json.load(file)
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Received an invalid value for argument `directory`, its {CONFIG_FILE} has "
            f"format_version={config.get('format_version')!r}, expected {FORMAT_VERSION}. Received: directory={directory!r}"
        )
    return config


def load_tokenizer(directory):
    """Loads a tokenizer saved with `save(directory)`.

    Args:
        directory: str. A folder holding `tokenizer.json`.

    Returns:
        A `WordPieceTokenizer`, `SentencePieceTokenizer` or `ByteTokenizer`.

    Example:
    ```python
    tokenizer = kzoo.data.load_tokenizer("saved_models/translator/tokenizer")
    ```
    """
    config = read_config(directory)
    kind = config.get("type")
    if kind == "word_piece":
        from kzoo.data.word_piece_tokenizer import WordPieceTokenizer

        return WordPieceTokenizer._from_directory(directory, config)
    if kind == "sentence_piece":
        from kzoo.data.sentence_piece_tokenizer import SentencePieceTokenizer

        return SentencePieceTokenizer._from_directory(directory, config)
    if kind == "byte":
        from kzoo.data.byte_tokenizer import ByteTokenizer

        return ByteTokenizer()
    raise ValueError(
        f"Received an invalid value for argument `directory`, its {CONFIG_FILE} has type={kind!r}; expected "
        f"'word_piece', 'sentence_piece' or 'byte'. Received: directory={directory!r}"
    )
