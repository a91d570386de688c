"""The saved-tokenizer format (`tokenizer.json` + vocabulary files) and what every kzoo tokenizer shares.

A tokenizer folder holds `tokenizer.json` (type, format version, special tokens,
options) and the type's vocabulary file. The TF-free runtime reads it and the
training side (`kzoo.data`) writes it through the same code: `TokenizerBase`
carries the fixed special ids, `decode`'s filtering, `encode_words` for tagging,
`config()` and `save()`; `read_config()` checks a folder before any class loads it.

Special tokens and their ids are the same for every tokenizer:

| name    | id | WordPiece | SentencePiece | bytes   |
|---------|----|-----------|---------------|---------|
| pad     | 0  | `[PAD]`   | `<pad>`       | `<pad>` |
| unknown | 1  | `[UNK]`   | `<unk>`       | `<unk>` |
| start   | 2  | `[START]` | `<s>`         | `<s>`   |
| end     | 3  | `[END]`   | `</s>`        | `</s>`  |
| mask    | 4  | `[MASK]`  | `<mask>`      | `<mask>`|

Special tokens are never produced from input text (a literal "[MASK]" is split
like any other text): the pipelines and the runtime's packing add them.

Example:
```python
config = read_config("saved_models/translator/tokenizer")
config["type"], config["special_tokens"]["end"]["id"]   # ('sentence_piece', 3)
```
"""

import json
import os

import numpy as np

from kzoo.runtime.validation import check_texts

CONFIG_FILE = "tokenizer.json"
FORMAT_VERSION = 1
SPECIAL_TOKEN_NAMES = ("pad", "unknown", "start", "end", "mask")
SPECIAL_TOKEN_IDS = {name: index for index, name in enumerate(SPECIAL_TOKEN_NAMES)}


def _invalid_folder(directory, problem):
    return ValueError(f"Received an invalid value for argument `directory`, {problem}. Received: directory={directory!r}")


def read_config(directory):
    """The content of `directory/tokenizer.json`, checked to be of this format version.

    Raises:
        FileNotFoundError: the folder has no `tokenizer.json`.
        ValueError: another format version.

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
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise _invalid_folder(directory, f"its {CONFIG_FILE} has format_version={version!r}; this kzoo reads version {FORMAT_VERSION}")
    return config


def check_special_ids(directory, config):
    """Raises `ValueError` unless `config` (a `tokenizer.json`) uses kzoo's fixed special ids."""
    special = {name: entry.get("id") for name, entry in (config.get("special_tokens") or {}).items()}
    if special != SPECIAL_TOKEN_IDS:
        raise _invalid_folder(os.fspath(directory), f"its special token ids {special} differ from {SPECIAL_TOKEN_IDS}")


class TokenizerBase:
    """What every kzoo tokenizer shares: special ids, decoding rules, the saved format.

    Subclasses set `type_name` and `special_tokens` (name -> token string) and
    implement `vocabulary_size`, `encode`, `decode`, `_extra_config()`,
    `_save_assets(directory)` and `from_directory(directory, config)`.

    Attributes:
        pad_id, unknown_id, start_id, end_id, mask_id: int. 0, 1, 2, 3, 4.

    Example:
    ```python
    tokenizer = ByteTokenizer()
    tokenizer.decode_batch([[2, 109, 3, 0]])   # ['h']
    tokenizer.save("tokenizer/")
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
    def special_ids(self):
        """name -> id of the five special tokens."""
        return dict(SPECIAL_TOKEN_IDS)

    def _check_texts(self, texts):
        return check_texts("texts", texts)

    def _content_ids(self, ids):
        """Ids up to the first end token, without pad and start tokens, as ints."""
        kept = []
        size = self.vocabulary_size
        for value in np.asarray(ids).reshape(-1).tolist():
            if not 0 <= value < size:
                raise ValueError(f"Received an invalid value for argument `ids`, expected ids in [0, {size}). Received: {value}")
            if value == self.end_id:
                break
            if value not in (self.pad_id, self.start_id):
                kept.append(value)
        return kept

    def decode_batch(self, batch):
        """`decode` of every row: `list[list[int]]` (or a 2-D array) -> `list[str]`."""
        return [self.decode(ids) for ids in batch]

    def encode_words(self, words):
        """Encodes pre-split words for tagging: `(ids, word_starts)`.

        Words before the last are encoded with a trailing space, exactly as
        `kzoo.data.tagging_dataset` does; `word_starts[i]` is the position in
        `ids` of the first sub-token of `words[i]` (`None` when a word yields
        no token).

        Example:
        ```python
        ids, starts = tokenizer.encode_words(["Anna", "lives", "in", "Berlin"])
        ```
        """
        words = self._check_texts(words)
        last = len(words) - 1
        pieces = self.encode([word if i == last else word + " " for i, word in enumerate(words)])
        ids, starts = [], []
        for piece in pieces:
            starts.append(len(ids) if piece else None)
            ids.extend(piece)
        return ids, starts

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

    def __repr__(self):
        return f"{type(self).__name__}(vocabulary_size={self.vocabulary_size})"
