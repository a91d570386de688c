"""TF-free twins of the kzoo tokenizers, for serving hosts without TensorFlow.

`load_tokenizer(directory)` reads a folder written by `kzoo.data` tokenizers'
`save()` (`tokenizer.json` plus vocabulary files) and returns an object with
the same interface and the same ids as the TensorFlow tokenizer:

- `WordPieceTokenizer`: pure Python. The pre-tokenization (optional accent
  stripping and NFKC case folding, splitting on whitespace, control and
  format characters, punctuation and CJK ideographs) and the greedy
  longest-match-first WordPiece lookup reproduce keras-hub's
  `WordPieceTokenizer` (tensorflow-text's `FastWordpieceTokenizer` with RE2
  and ICU underneath) with `re`-free character classes from `unicodedata`.
  Python 3.11's `unicodedata` knows Unicode 14; characters assigned later may
  be classified differently from TensorFlow's tables.
- `SentencePieceTokenizer`: the `sentencepiece` package, the same C++ library
  tensorflow-text embeds, with the same model file.
- `ByteTokenizer`: UTF-8 bytes shifted past the special tokens.

Every tokenizer has the fixed special ids `pad_id=0`, `unknown_id=1`,
`start_id=2`, `end_id=3`, `mask_id=4`. This module imports neither TensorFlow
nor Keras; `sentencepiece` is imported only to load a SentencePiece tokenizer.
(Several small classes in one file on purpose: the serving extra should be one
import.)

Example:
```python
from export.runtime.tokenizers import load_tokenizer, pack
tokenizer = load_tokenizer("saved_models/translator/tokenizer")
ids = tokenizer.encode(["three hundred and forty-seven"])[0]
token_ids, padding_mask = pack(ids, 32, start_id=tokenizer.start_id, end_id=tokenizer.end_id)
print(tokenizer.decode(ids))
```
"""

import json
import os
import unicodedata

CONFIG_FILE = "tokenizer.json"
FORMAT_VERSION = 1
SPECIAL_TOKEN_IDS = {"pad": 0, "unknown": 1, "start": 2, "end": 3, "mask": 4}
# tensorflow-text's FastWordpieceTokenizer maps longer words to the unknown token.
MAX_BYTES_PER_WORD = 100
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
# Unicode Default_Ignorable_Code_Point, dropped by ICU's NFKC_Casefold.
_DEFAULT_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


class _SpecialIds:
    """The fixed special token ids every tokenizer shares."""

    pad_id = SPECIAL_TOKEN_IDS["pad"]
    unknown_id = SPECIAL_TOKEN_IDS["unknown"]
    start_id = SPECIAL_TOKEN_IDS["start"]
    end_id = SPECIAL_TOKEN_IDS["end"]
    mask_id = SPECIAL_TOKEN_IDS["mask"]

    def _check_texts(self, texts):
        if isinstance(texts, (str, bytes)) or not all(isinstance(text, str) for text in texts):
            raise TypeError(
                f"Received an invalid value for argument `texts`, expected a list of str. Received: texts={texts!r:.80}"
            )

    def _content_ids(self, ids):
        """Ids up to the first end token, without pad and start tokens, as ints."""
        kept = []
        for value in ids:
            value = int(value)
            if not 0 <= value < self.vocabulary_size:
                raise ValueError(
                    f"Received an invalid value for argument `ids`, expected ids in [0, {self.vocabulary_size}). "
                    f"Received: {value}"
                )
            if value == self.end_id:
                break
            if value not in (self.pad_id, self.start_id):
                kept.append(value)
        return kept

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
        self._check_texts(words)
        last = len(words) - 1
        pieces = self.encode([word if i == last else word + " " for i, word in enumerate(words)])
        ids, starts = [], []
        for piece in pieces:
            starts.append(len(ids) if piece else None)
            ids.extend(piece)
        return ids, starts


# ----------------------------------------------------------------------------- WordPiece


def _is_whitespace(char):
    return char in " \t\n\r\f" or unicodedata.category(char) in ("Cc", "Cf")


def _is_punctuation(char):
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(char):
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _case_fold(text):
    """ICU's NFKC_Casefold, as tensorflow-text's `case_fold_utf8` applies it."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(
        char for char in text
        if not any(low <= ord(char) <= high for low, high in _DEFAULT_IGNORABLE_RANGES)
    )


def pretokenize(text, *, lowercase=False, strip_accents=False, split_on_cjk=True):
    """Splits one string into words the way keras-hub's WordPieceTokenizer does.

    Accents are stripped first (NFD, drop `Mn` marks); then the text splits on
    whitespace and `Cc`/`Cf` characters (dropped) and on punctuation and,
    optionally, CJK ideographs (kept as one-character words); then each word is
    case folded.

    Example:
    ```python
    pretokenize("Hello, World!")  # ['Hello', ',', 'World', '!']
    ```
    """
    if strip_accents:
        text = "".join(
            char for char in unicodedata.normalize("NFD", text) if unicodedata.category(char) != "Mn"
        )
    words, current = [], []
    for char in text:
        if _is_whitespace(char):
            if current:
                words.append("".join(current))
                current = []
        elif _is_punctuation(char) or (split_on_cjk and _is_cjk(char)):
            if current:
                words.append("".join(current))
                current = []
            words.append(char)
        else:
            current.append(char)
    if current:
        words.append("".join(current))
    if lowercase:
        words = [_case_fold(word) for word in words]
    return words


class WordPieceTokenizer(_SpecialIds):
    """Pure-Python WordPiece with keras-hub's pre-tokenization (see the module docstring).

    Args:
        vocabulary: list of str. Token per id; ids 0-4 are the special tokens.
        lowercase: bool. NFKC case folding. Defaults to False.
        strip_accents: bool. Drop combining marks after NFD. Defaults to False.
        split_on_cjk: bool. Split CJK ideographs into single words. Defaults to True.
        suffix_indicator: str. Prefix of word-internal pieces. Defaults to `"##"`.

    Example:
    ```python
    tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "un", "##able"])
    tokenizer.encode(["unable"])  # [[5, 6]]
    ```
    """

    def __init__(self, vocabulary, *, lowercase=False, strip_accents=False, split_on_cjk=True, suffix_indicator="##"):
        self.vocabulary = list(vocabulary)
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.split_on_cjk = split_on_cjk
        self.suffix_indicator = suffix_indicator
        self._ids = {token: index for index, token in enumerate(self.vocabulary)}
        self.vocabulary_size = len(self.vocabulary)

    def _word_ids(self, word):
        if not word:
            return []
        if len(word.encode("utf-8")) > MAX_BYTES_PER_WORD:
            return [self.unknown_id]
        ids, start = [], 0
        while start < len(word):
            end, found = len(word), None
            while start < end:
                piece = word[start:end] if start == 0 else self.suffix_indicator + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unknown_id]
            ids.append(found)
            start = end
        return ids

    def encode(self, texts):
        """Token ids of each text (no start/end tokens): `list[str] -> list[list[int]]`."""
        self._check_texts(texts)
        return [
            [
                token_id
                for word in pretokenize(
                    text, lowercase=self.lowercase, strip_accents=self.strip_accents, split_on_cjk=self.split_on_cjk
                )
                for token_id in self._word_ids(word)
            ]
            for text in texts
        ]

    def decode(self, ids):
        """Text of one id sequence: stops at the end token, drops pad/start, joins `##` pieces."""
        words = []
        for value in self._content_ids(ids):
            token = self.vocabulary[value]
            if token.startswith(self.suffix_indicator) and words:
                words[-1] += token[len(self.suffix_indicator) :]
            else:
                words.append(token)
        return " ".join(words)


# ----------------------------------------------------------------------------- SentencePiece


class SentencePieceTokenizer(_SpecialIds):
    """SentencePiece through the `sentencepiece` package (no TensorFlow).

    Args:
        model_file: str. A SentencePiece model whose ids 0-4 are `<pad>`,
            `<unk>`, `<s>`, `</s>`, `<mask>`.

    Example:
    ```python
    tokenizer = SentencePieceTokenizer("tokenizer/sentencepiece.model")
    tokenizer.decode(tokenizer.encode(["vingt-deux"])[0])  # 'vingt-deux'
    ```
    """

    def __init__(self, model_file):
        try:
            import sentencepiece
        except ImportError:
            raise ImportError(
                "SentencePieceTokenizer needs the `sentencepiece` package: pip install sentencepiece"
            ) from None
        self.model_file = model_file
        self._processor = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self.vocabulary_size = self._processor.get_piece_size()

    def encode(self, texts):
        """Token ids of each text (no start/end tokens): `list[str] -> list[list[int]]`."""
        self._check_texts(texts)
        if not texts:
            return []
        return [list(ids) for ids in self._processor.encode(list(texts), out_type=int)]

    def decode(self, ids):
        """Text of one id sequence: stops at the end token, drops pad/start."""
        return self._processor.decode(self._content_ids(ids))


# ----------------------------------------------------------------------------- bytes


class ByteTokenizer(_SpecialIds):
    """UTF-8 bytes as ids `5 + byte`, after the five special tokens (vocabulary 261).

    Example:
    ```python
    ByteTokenizer().encode(["hé"])  # [[109, 200, 174]]
    ```
    """

    byte_offset = len(SPECIAL_TOKEN_IDS)
    vocabulary_size = byte_offset + 256

    def encode(self, texts):
        """Token ids of each text (no start/end tokens): `list[str] -> list[list[int]]`."""
        self._check_texts(texts)
        return [[byte + self.byte_offset for byte in text.encode("utf-8")] for text in texts]

    def decode(self, ids):
        """Text of one id sequence; unknown and mask ids are dropped, bad UTF-8 becomes U+FFFD."""
        data = bytes(value - self.byte_offset for value in self._content_ids(ids) if value >= self.byte_offset)
        return data.decode("utf-8", errors="replace")


# ----------------------------------------------------------------------------- loading and packing


def load_tokenizer(directory):
    """Loads a tokenizer folder saved by `kzoo.data` (`tokenizer.json` + vocabulary files).

    Args:
        directory: str. The folder, e.g. `saved_models/<name>/tokenizer`.

    Returns:
        A `WordPieceTokenizer`, `SentencePieceTokenizer` or `ByteTokenizer`.

    Example:
    ```python
    tokenizer = load_tokenizer("saved_models/translator/tokenizer")
    ```
    """
    directory = os.fspath(directory)
    config_path = os.path.join(directory, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(
            f"Received an invalid value for argument `directory`, it has no {CONFIG_FILE}. Received: directory={directory!r}"
        )
    with open(config_path, encoding="utf-8") as file:
        config = json.load(file)
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"Received an invalid value for argument `directory`, its {CONFIG_FILE} has format_version={version!r}; "
            f"this runtime reads version {FORMAT_VERSION}. Received: directory={directory!r}"
        )
    special = {name: entry["id"] for name, entry in config["special_tokens"].items()}
    if special != SPECIAL_TOKEN_IDS:
        raise ValueError(
            f"Received an invalid value for argument `directory`, its special token ids {special} differ from "
            f"{SPECIAL_TOKEN_IDS}. Received: directory={directory!r}"
        )
    kind = config.get("type")
    if kind == "word_piece":
        with open(os.path.join(directory, config["vocabulary_file"]), encoding="utf-8") as file:
            vocabulary = [line.rstrip("\n") for line in file]
        return WordPieceTokenizer(
            vocabulary,
            lowercase=config["lowercase"],
            strip_accents=config["strip_accents"],
            split_on_cjk=config["split_on_cjk"],
            suffix_indicator=config["suffix_indicator"],
        )
    if kind == "sentence_piece":
        return SentencePieceTokenizer(os.path.join(directory, config["model_file"]))
    if kind == "byte":
        return ByteTokenizer()
    raise ValueError(
        f"Received an invalid value for argument `directory`, its {CONFIG_FILE} has type={kind!r}; expected "
        f"'word_piece', 'sentence_piece' or 'byte'. Received: directory={directory!r}"
    )


def pack(ids, sequence_length, *, start_id=None, end_id=None, pad_id=0):
    """Truncates, adds start/end ids and right-pads, like keras-hub's `StartEndPacker`.

    Tokens are truncated first so the end id always fits.

    Args:
        ids: list of int. Token ids of one text.
        sequence_length: int. Output length.
        start_id: int or None. Prepended when given.
        end_id: int or None. Appended when given.
        pad_id: int. Padding id. Defaults to 0.

    Returns:
        `(token_ids, padding_mask)`: two lists of `sequence_length` ints, the
        mask 1 for real tokens and 0 for padding.

    Example:
    ```python
    pack([7, 8, 9], 6, start_id=2, end_id=3)  # ([2, 7, 8, 9, 3, 0], [1, 1, 1, 1, 1, 0])
    ```
    """
    if not isinstance(sequence_length, int) or sequence_length < (start_id is not None) + (end_id is not None):
        raise ValueError(
            "Received an invalid value for argument `sequence_length`, expected an integer that fits the start "
            f"and end ids. Received: sequence_length={sequence_length!r}"
        )
    room = sequence_length - (start_id is not None) - (end_id is not None)
    packed = ([start_id] if start_id is not None else []) + list(ids)[:room] + ([end_id] if end_id is not None else [])
    mask = [1] * len(packed) + [0] * (sequence_length - len(packed))
    return packed + [pad_id] * (sequence_length - len(packed)), mask
