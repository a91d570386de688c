"""A BERT or GPT-2 checkpoint's tokenizer, built with the `tokenizers` library from the checkpoint's own files.

A folder saved by a fast tokenizer holds `tokenizer.json`, the whole pipeline,
which is used as it is. Older folders hold only the vocabulary: `vocab.txt`
(BERT: `BertWordPieceTokenizer` with the folder's `do_lower_case`) or
`vocab.json` + `merges.txt` (GPT-2: `ByteLevelBPETokenizer`). Either way the
result is a `kzoo.data.HuggingFaceTokenizer` carrying the checkpoint's special
ids: BERT packs `[CLS] ... [SEP]` and pads with `[PAD]`; GPT-2 adds nothing in
front, ends with `<|endoftext|>` and has no pad token (kzoo pads with 0 and
masks it).

Example:
```python
tokenizer = bert_tokenizer(CheckpointFolder("bert-base-uncased"))
tokenizer.encode(["Hello world"]), tokenizer.start_id   # ([[7592, 2088]], 101)
```
"""

from kzoo.checkpoints.checkpoint_error import CheckpointError
from kzoo.checkpoints.checkpoint_folder import read_json, reading_tokenizer

BERT_SPECIAL_TOKENS = {"pad": "[PAD]", "unknown": "[UNK]", "start": "[CLS]", "end": "[SEP]", "mask": "[MASK]"}
GPT2_END_TOKEN = "<|endoftext|>"


def _tokenizer_config(folder):
    path = folder.file("tokenizer_config.json")
    return read_json(path, "tokenizer configuration") if path else {}


def _ids(tokenizer, tokens, where):
    ids = {}
    for name, token in tokens.items():
        value = tokenizer.token_to_id(token)
        if value is None:
            raise CheckpointError(f"{where}'s tokenizer has no {token} token; its vocabulary does not fit the model.")
        ids[name] = value
    return ids


def _bert(tokenizer, where):
    from kzoo.data.hugging_face_tokenizer import HuggingFaceTokenizer

    return HuggingFaceTokenizer(tokenizer.to_str(), _ids(tokenizer, BERT_SPECIAL_TOKENS, where), BERT_SPECIAL_TOKENS)


def _gpt2(tokenizer, where):
    from kzoo.data.hugging_face_tokenizer import HuggingFaceTokenizer

    end = _ids(tokenizer, {"end": GPT2_END_TOKEN}, where)["end"]
    return HuggingFaceTokenizer(tokenizer.to_str(), {"end": end, "unknown": end},
                                {"end": GPT2_END_TOKEN, "unknown": GPT2_END_TOKEN})


def bert_vocabulary_tokenizer(vocabulary, lowercase=True, strip_accents=None, chinese_characters=True, where=None):
    """BERT's WordPiece tokenizer from a `vocab.txt` file (one token per line), as a `kzoo.data.HuggingFaceTokenizer`."""
    from tokenizers.implementations import BertWordPieceTokenizer

    tokenizer = BertWordPieceTokenizer(str(vocabulary), lowercase=lowercase, strip_accents=strip_accents,
                                       handle_chinese_chars=chinese_characters)._tokenizer
    return _bert(tokenizer, where or vocabulary)


def gpt2_vocabulary_tokenizer(vocabulary, merges, add_prefix_space=False, where=None):
    """GPT-2's byte-level BPE from `vocab.json` and `merges.txt`, as a `kzoo.data.HuggingFaceTokenizer`."""
    from tokenizers.implementations import ByteLevelBPETokenizer

    tokenizer = ByteLevelBPETokenizer(str(vocabulary), str(merges), add_prefix_space=add_prefix_space)._tokenizer
    return _gpt2(tokenizer, where or vocabulary)


def _pipeline(folder):
    """The folder's `tokenizer.json` (the whole pipeline of a fast tokenizer) as a `tokenizers.Tokenizer`, or None."""
    import tokenizers

    path = folder.file("tokenizer.json")
    return tokenizers.Tokenizer.from_file(str(path)) if path else None


def bert_tokenizer(folder):
    """The WordPiece tokenizer of a BERT checkpoint folder, as a `kzoo.data.HuggingFaceTokenizer`."""
    with reading_tokenizer(folder):
        return _bert_tokenizer(folder)


def _bert_tokenizer(folder):
    pipeline = _pipeline(folder)
    if pipeline is not None:
        return _bert(pipeline, folder.path)
    vocabulary = folder.file("vocab.txt")
    if vocabulary is None:
        raise CheckpointError(f"{folder.path} has neither tokenizer.json nor vocab.txt; a BERT checkpoint ships one.")
    config = _tokenizer_config(folder)
    return bert_vocabulary_tokenizer(vocabulary, config.get("do_lower_case", True), config.get("strip_accents"),
                                     config.get("tokenize_chinese_chars", True), where=folder.path)


def gpt2_tokenizer(folder):
    """The byte-level BPE tokenizer of a GPT-2 checkpoint folder, as a `kzoo.data.HuggingFaceTokenizer`."""
    with reading_tokenizer(folder):
        return _gpt2_tokenizer(folder)


def _gpt2_tokenizer(folder):
    pipeline = _pipeline(folder)
    if pipeline is not None:
        return _gpt2(pipeline, folder.path)
    vocabulary, merges = folder.file("vocab.json"), folder.file("merges.txt")
    if vocabulary is None or merges is None:
        raise CheckpointError(f"{folder.path} has neither tokenizer.json nor vocab.json and merges.txt; a GPT-2 "
                              "checkpoint ships them.")
    add_prefix_space = _tokenizer_config(folder).get("add_prefix_space", False)
    return gpt2_vocabulary_tokenizer(vocabulary, merges, add_prefix_space, where=folder.path)
