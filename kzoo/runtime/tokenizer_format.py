"""The saved-tokenizer format (`tokenizer.json` + vocabulary files) and what every kzoo tokenizer shares.

A tokenizer folder holds `tokenizer.json` (type, format version, special tokens,
options) and the type's vocabulary file. The TF-free runtime reads it and the
training side (`kzoo.data`) writes it through the same code: `TokenizerBase`
carries the fixed special ids, `decode`'s filtering, `encode_words` for tagging,
`config()` and `save()`; `read_config()` checks a folder before any class loads it.

The tokenizers kzoo trains have the same special ids:

| name    | id | WordPiece | SentencePiece | bytes   |
|---------|----|-----------|---------------|---------|
| pad     | 0  | `[PAD]`   | `<pad>`       | `<pad>` |
| unknown | 1  | `[UNK]`   | `<unk>`       | `<unk>` |
| start   | 2  | `[START]` | `<s>`         | `<s>`   |
| end     | 3  | `[END]`   | `</s>`        | `</s>`  |
| mask    | 4  | `[MASK]`  | `<mask>`      | `<mask>`|

A pretrained checkpoint's tokenizer (`MarianTokenizer`, `HuggingFaceTokenizer`)
keeps the checkpoint's own ids instead, and may lack some of the names (Marian
has no start token; GPT-2 has no pad) or add `decoder_start` (the first decoder
token when it is not `start`: Marian decodes from its pad id); `tokenizer.json`
then lists exactly the ones it has. Special tokens are never produced from input
text (a literal "[MASK]" is split like any other text): the pipelines and the
runtime's packing add them.

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
# What a checkpoint's tokenizer may name besides SPECIAL_TOKEN_NAMES.


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


def special_ids_of(config):
    """name -> id of the special tokens a `tokenizer.json` lists."""
    return {name: entry["id"] for name, entry in (config.get("special_tokens") or {}).items() if entry is not None}


def check_special_ids(directory, config):
    """Raises `ValueError` unless `config` (a `tokenizer.json`) uses kzoo's fixed special ids."""
    special = special_ids_of(config)
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
    special_tokens = None  # name -> token string
    _special_ids = SPECIAL_TOKEN_IDS  # name -> id; a checkpoint's tokenizer sets its own.
    own_special_ids = False  # True for a checkpoint's tokenizer: its ids are not kzoo's fixed ones.

    @property
    def pad_id(self):
        return self._special_ids.get("pad")

    @property
    def unknown_id(self):
        return self._special_ids.get("unknown")

    @property
    def start_id(self):
        return self._special_ids.get("start")

    @property
    def end_id(self):
        return self._special_ids.get("end")

    @property
    def mask_id(self):
        return self._special_ids.get("mask")

    @property
    def decoder_start_id(self):
        """The first token of every decoder input: `decoder_start` where the tokenizer names one, else `start`."""
        return self._special_ids.get("decoder_start", self.start_id)

    @property
    def special_ids(self):
        """name -> id of the special tokens this tokenizer has."""
        return dict(self._special_ids)

    def for_targets(self):
        """The tokenizer of the target side of a translation pair (itself, unless the checkpoint has two)."""
        return self

    @property
    def target_languages(self):
        """Target languages a source text may name with a `>>xx<<` code (multilingual translators); else empty."""
        return ()

    def with_target_language(self, texts, language):
        """`texts` with `>>language<<` in front, as a multilingual translator reads them; `language=None`: unchanged.

        Example: `tokenizer.with_target_language(["two"], "fr")   # ['>>fr<< two']`.
        """
        texts = self._check_texts(texts)
        if language is None:
            return texts
        if language not in self.target_languages:
            offered = (f"this one translates into {', '.join(self.target_languages)}" if self.target_languages
                       else "this translator has one target language; leave target_language out")
            raise ValueError(f"Received target_language={language!r}; {offered}.")
        return [f">>{language}<< {text}" for text in texts]

    def _check_texts(self, texts):
        return check_texts("texts", texts)

    def _content_ids(self, ids):
        """Ids up to the first end token, without pad and start tokens, as ints."""
        kept = []
        size = self.vocabulary_size
        skipped = {self.pad_id, self.start_id, self.decoder_start_id} - {None}
        for value in np.asarray(ids).reshape(-1).tolist():
            if not 0 <= value < size:
                raise ValueError(f"Received an invalid value for argument `ids`, expected ids in [0, {size}). Received: {value}")
            if value == self.end_id:
                break
            if value not in skipped:
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
                name: {"token": self.special_tokens.get(name), "id": token_id} for name, token_id in self._special_ids.items()
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
