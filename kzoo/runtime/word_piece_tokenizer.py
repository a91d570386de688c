"""WordPiece without TensorFlow: keras-hub's `WordPieceTokenizer` reproduced in pure Python.

The pre-tokenization (optional accent stripping and NFKC case folding, splitting
on whitespace, control and format characters, punctuation and CJK ideographs)
and the greedy longest-match-first WordPiece lookup reproduce keras-hub's
`WordPieceTokenizer` (tensorflow-text's `FastWordpieceTokenizer` with RE2 and
ICU underneath) with `re`-free character classes from `unicodedata`, so a
serving host gets the training ids without TensorFlow (tests compare both on
every example of every bundled task). Python 3.11's `unicodedata` knows Unicode
14; characters assigned later may be classified differently from TensorFlow's
tables. `kzoo.data.WordPieceTokenizer` extends this class with the TensorFlow op
path and vocabulary training.

Example:
```python
tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "un", "##able"])
tokenizer.encode(["unable"])  # [[5, 6]]
```
"""

import collections
import os
import unicodedata

from kzoo.runtime.tokenizer_format import SPECIAL_TOKEN_NAMES, TokenizerBase

VOCABULARY_FILE = "vocabulary.txt"
SUFFIX_INDICATOR = "##"
SPECIAL_TOKENS = {"pad": "[PAD]", "unknown": "[UNK]", "start": "[START]", "end": "[END]", "mask": "[MASK]"}
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


class WordPieceTokenizer(TokenizerBase):
    """WordPiece sub-words (Schuster & Nakajima 2012; BERT) with fixed special ids 0-4, in pure Python.

    Text is split on whitespace, control/format characters, punctuation and
    CJK ideographs (keras-hub's pre-tokenization), then each word is matched
    greedily, longest piece first; a word that cannot be matched becomes
    `[UNK]`. `decode` joins `##` pieces and puts one space between words, so it
    does not restore the spacing around punctuation.

    Args:
        vocabulary: list of str. One token per id; the first five must be
            `[PAD]`, `[UNK]`, `[START]`, `[END]`, `[MASK]`.
        lowercase: bool. Case fold (NFKC_Casefold) before matching. Defaults to False.
        strip_accents: bool. Remove combining marks after NFD. Defaults to False.
        split_on_cjk: bool. Make every CJK ideograph its own word. Defaults to True.
        suffix_indicator: str. Prefix of word-internal pieces. Defaults to `"##"`.

    Example:
    ```python
    tokenizer = WordPieceTokenizer(["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "un", "##able", "."])
    tokenizer.encode(["unable."])     # [[5, 6, 7]]
    tokenizer.decode([2, 5, 6, 7, 3]) # 'unable .'
    ```

    References:
        - [Schuster and Nakajima, 2012](https://research.google/pubs/pub37842/)
        - [Song et al., 2020](https://arxiv.org/abs/2012.15524)
    """

    type_name = "word_piece"
    special_tokens = SPECIAL_TOKENS

    def __init__(self, vocabulary, *, lowercase=False, strip_accents=False, split_on_cjk=True, suffix_indicator=SUFFIX_INDICATOR):
        vocabulary = list(vocabulary)
        expected = [SPECIAL_TOKENS[name] for name in SPECIAL_TOKEN_NAMES]
        if vocabulary[: len(expected)] != expected:
            raise ValueError(
                f"Received an invalid value for argument `vocabulary`, expected it to start with {expected}. "
                f"Received: vocabulary[:5]={vocabulary[:5]}"
            )
        if len(set(vocabulary)) != len(vocabulary):
            duplicate = next(token for token, count in collections.Counter(vocabulary).items() if count > 1)
            raise ValueError(
                f"Received an invalid value for argument `vocabulary`, expected distinct tokens. Received: {duplicate!r} twice"
            )
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.strip_accents = strip_accents
        self.split_on_cjk = split_on_cjk
        self.suffix_indicator = suffix_indicator
        self._ids = {token: index for index, token in enumerate(self.vocabulary)}

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

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
        texts = self._check_texts(texts)
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
        """Text of one id sequence: stops at `[END]`, drops `[PAD]`/`[START]`, joins `##` pieces.

        Example: `tokenizer.decode([2, 5, 6, 3, 0])`.
        """
        words = []
        for value in self._content_ids(ids):
            token = self.vocabulary[value]
            if token.startswith(self.suffix_indicator) and words:
                words[-1] += token[len(self.suffix_indicator) :]
            else:
                words.append(token)
        return " ".join(words)

    def _extra_config(self):
        return {
            "vocabulary_file": VOCABULARY_FILE,
            "lowercase": self.lowercase,
            "strip_accents": self.strip_accents,
            "split_on_cjk": self.split_on_cjk,
            "suffix_indicator": self.suffix_indicator,
        }

    def _save_assets(self, directory):
        with open(os.path.join(directory, VOCABULARY_FILE), "w", encoding="utf-8") as file:
            file.writelines(token + "\n" for token in self.vocabulary)

    @classmethod
    def from_directory(cls, directory, config):
        """The tokenizer saved in `directory`, whose checked `tokenizer.json` is `config`."""
        with open(os.path.join(directory, config["vocabulary_file"]), encoding="utf-8") as file:
            vocabulary = [line.rstrip("\n") for line in file]
        return cls(
            vocabulary,
            lowercase=config["lowercase"],
            strip_accents=config["strip_accents"],
            split_on_cjk=config["split_on_cjk"],
            suffix_indicator=config["suffix_indicator"],
        )
