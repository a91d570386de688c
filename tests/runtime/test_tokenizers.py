"""kzoo.runtime.tokenizers: one loader for every saved tokenizer folder, on both sides."""

import json

import pytest

import kzoo.data
from kzoo.runtime.byte_tokenizer import ByteTokenizer
from kzoo.runtime.tokenizers import TOKENIZER_TYPES, load_tokenizer


def test_the_runtime_loads_what_kzoo_data_saved_and_kzoo_data_loads_its_own_classes(tmp_path):
    kzoo.data.WordPieceTokenizer(["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "hi"]).save(tmp_path)
    tf_free = load_tokenizer(tmp_path)
    assert type(tf_free) is TOKENIZER_TYPES["word_piece"] and tf_free.encode(["hi"]) == [[5]]
    trainable = kzoo.data.load_tokenizer(tmp_path)
    assert isinstance(trainable, kzoo.data.WordPieceTokenizer) and isinstance(trainable, TOKENIZER_TYPES["word_piece"])


def test_an_unknown_type_names_the_known_ones(tmp_path):
    ByteTokenizer().save(tmp_path)
    config = json.loads((tmp_path / "tokenizer.json").read_text())
    (tmp_path / "tokenizer.json").write_text(json.dumps(dict(config, type="magic")))
    with pytest.raises(ValueError, match="type='magic'; expected 'word_piece' or 'sentence_piece' or 'byte' or 'marian' or 'hugging_face'"):
        load_tokenizer(tmp_path)
