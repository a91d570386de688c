"""Marian / OPUS-MT's tokenizer without TensorFlow or transformers: two SentencePiece models and a vocabulary.

An OPUS-MT checkpoint tokenizes the source with `source.spm` and the target with
`target.spm`, and maps the pieces to ids through `vocab.json` (shared by both
sides) or `vocab.json` + `target_vocab.json` (separate vocabularies). This class
reproduces transformers' `MarianTokenizer` with the `sentencepiece` package:

- a text starting with a target-language code (`">>fr<< ..."`, the tokens of
  multilingual models) keeps the code as one token; the rest is split into
  pieces by the side's SentencePiece model, and pieces missing from the
  vocabulary become `<unk>`;
- nothing is added in front; the end token `</s>` follows the ids (added by the
  packing, `kzoo.runtime.packing`, not by `encode`);
- the decoder starts from the pad id (`decoder_start`);
- `decode` stops at `</s>`, drops pad and unknown ids (as `skip_special_tokens`
  does), and joins the pieces with the SentencePiece model.

`for_targets()` gives the target side: the target model and vocabulary, and the
decoder's start token in front (what teacher forcing feeds the decoder).

Example:
```python
tokenizer = MarianTokenizer.from_files("opus-mt-en-de/source.spm", "opus-mt-en-de/target.spm", "opus-mt-en-de/vocab.json")
ids = tokenizer.encode(["I am a small frog."])[0]
tokenizer.for_targets().decode([58100, 105, 212, 3, 0])
```
"""

import json
import os

from kzoo.runtime.tokenizer_format import TokenizerBase

SOURCE_MODEL_FILE = "source.spm"
TARGET_MODEL_FILE = "target.spm"
VOCABULARY_FILE = "vocab.json"
TARGET_VOCABULARY_FILE = "target_vocab.json"
SPECIAL_TOKENS = {"pad": "<pad>", "unknown": "<unk>", "end": "</s>", "decoder_start": "<pad>"}


def _processor(proto):
    try:
        import sentencepiece
    except ImportError:
        raise ImportError("MarianTokenizer needs the `sentencepiece` package: pip install sentencepiece") from None
    return sentencepiece.SentencePieceProcessor(model_proto=proto)


def _split_language_code(text):
    """(`[">>xx<<"]` or `[]`, the rest): a target-language code at the start of `text`."""
    end = text.find("<<") if text.startswith(">>") else -1
    return ([text[: end + 2]], text[end + 2 :]) if end != -1 else ([], text)


class MarianTokenizer(TokenizerBase):
    """A Marian / OPUS-MT checkpoint's tokenizer: source and target SentencePiece models, one or two vocabularies.

    Args:
        source_proto: bytes. The source SentencePiece model (`source.spm`).
        target_proto: bytes. The target SentencePiece model (`target.spm`).
        vocabulary: dict str -> int. The source (or shared) vocabulary (`vocab.json`).
        target_vocabulary: dict str -> int or None. The target vocabulary of a
            checkpoint with separate vocabularies (`target_vocab.json`).
        side: str. "source" (default) or "target": which model and vocabulary
            `encode` uses, and whether the decoder start token is the start.

    Example:
    ```python
    tokenizer = MarianTokenizer(source_proto, target_proto, {"</s>": 0, "<unk>": 1, "▁two": 2, "<pad>": 3})
    tokenizer.encode([">>de<< two"])
    ```
    """

    type_name = "marian"
    own_special_ids = True
    special_tokens = SPECIAL_TOKENS

    def __init__(self, source_proto, target_proto, vocabulary, target_vocabulary=None, side="source"):
        if side not in ("source", "target"):
            raise ValueError(f"Received an invalid value for argument `side`, expected 'source' or 'target'. Received: side={side!r}")
        self.source_proto, self.target_proto = source_proto, target_proto
        self.vocabulary = dict(vocabulary)
        self.target_vocabulary = None if target_vocabulary is None else dict(target_vocabulary)
        self.side = side
        missing = [token for token in SPECIAL_TOKENS.values() if token not in self.vocabulary]
        if missing:
            raise ValueError(
                f"Received an invalid value for argument `vocabulary`, it lacks {', '.join(sorted(set(missing)))}; a Marian "
                "vocabulary has </s>, <unk> and <pad>."
            )
        self._source = _processor(source_proto)
        self._target = _processor(target_proto)
        decoded = self.target_vocabulary if self.target_vocabulary is not None else self.vocabulary
        self._pieces = {index: piece for piece, index in decoded.items()}
        ids = {name: self.vocabulary[token] for name, token in SPECIAL_TOKENS.items()}
        if side == "target":
            ids["start"] = ids["decoder_start"]
        self._special_ids = ids

    @classmethod
    def from_files(cls, source_model, target_model, vocabulary, target_vocabulary=None):
        """The tokenizer of a checkpoint's files (paths)."""

        def read(path, binary=True):
            with open(path, "rb" if binary else "r", **({} if binary else {"encoding": "utf-8"})) as file:
                return file.read() if binary else json.load(file)

        return cls(read(source_model), read(target_model), read(vocabulary, False),
                   read(target_vocabulary, False) if target_vocabulary else None)

    def for_targets(self):
        """The target side: `target.spm`, the target vocabulary, and the decoder start token as `start`.

        Of the same class as `self` (`kzoo.data.MarianTokenizer` stays one).
        """
        if self.side == "target":
            return self
        return type(self)(self.source_proto, self.target_proto, self.vocabulary, self.target_vocabulary, side="target")

    @property
    def target_languages(self):
        """The `>>xx<<` codes of the vocabulary, without the brackets (multilingual checkpoints)."""
        return tuple(sorted(token[2:-2] for token in self.vocabulary if token.startswith(">>") and token.endswith("<<")))

    @property
    def vocabulary_size(self):
        """Ids of this side's vocabulary (the decoded ids on the target side)."""
        if self.side == "target" and self.target_vocabulary is not None:
            return len(self.target_vocabulary)
        return len(self.vocabulary)

    def encode(self, texts):
        """Ids of each text (no end token): `list[str] -> list[list[int]]`, with this side's model and vocabulary."""
        texts = self._check_texts(texts)
        processor = self._target if self.side == "target" else self._source
        vocabulary = self.target_vocabulary if self.side == "target" and self.target_vocabulary is not None else self.vocabulary
        unknown = vocabulary["<unk>"]
        encoded = []
        for text in texts:
            code, rest = _split_language_code(text)
            encoded.append([vocabulary.get(piece, unknown) for piece in code + processor.encode(rest, out_type=str)])
        return encoded

    def decode(self, ids):
        """Target text of one id sequence: stops at `</s>`, drops pad and unknown ids, joins the pieces.

        Example: `tokenizer.decode([58100, 105, 212, 0])`.
        """
        unknown = self.unknown_id
        pieces = [self._pieces[value] for value in self._content_ids(ids) if value != unknown and value in self._pieces]
        return self._target.decode_pieces(pieces).replace("\u2581", " ").strip()

    def _extra_config(self):
        return {
            "source_model_file": SOURCE_MODEL_FILE,
            "target_model_file": TARGET_MODEL_FILE,
            "vocabulary_file": VOCABULARY_FILE,
            "target_vocabulary_file": TARGET_VOCABULARY_FILE if self.target_vocabulary is not None else None,
        }

    def _save_assets(self, directory):
        for name, data in ((SOURCE_MODEL_FILE, self.source_proto), (TARGET_MODEL_FILE, self.target_proto)):
            with open(os.path.join(directory, name), "wb") as file:
                file.write(data)
        for name, table in ((VOCABULARY_FILE, self.vocabulary), (TARGET_VOCABULARY_FILE, self.target_vocabulary)):
            if table is not None:
                with open(os.path.join(directory, name), "w", encoding="utf-8") as file:
                    json.dump(table, file, ensure_ascii=False, indent=1)

    @classmethod
    def from_directory(cls, directory, config):
        """The tokenizer saved in `directory`, whose checked `tokenizer.json` is `config`."""
        target = config.get("target_vocabulary_file")
        return cls.from_files(os.path.join(directory, config["source_model_file"]),
                              os.path.join(directory, config["target_model_file"]),
                              os.path.join(directory, config["vocabulary_file"]),
                              os.path.join(directory, target) if target else None)
