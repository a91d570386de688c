"""kzoo.runtime.WordPieceTokenizer: keras-hub's WordPiece in pure Python (its parity with TensorFlow: tests/data)."""

import pytest

from kzoo.runtime.word_piece_tokenizer import WordPieceTokenizer, pretokenize

VOCABULARY = ["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "un", "##able", "##aff", ".", "the", "thé"]


def test_greedy_longest_match_unknown_words_and_decoding():
    tokenizer = WordPieceTokenizer(VOCABULARY)
    assert tokenizer.encode(["unable.", "unaffable", "zebra", "thé", ""]) == [[5, 6, 8], [5, 7, 6], [1], [10], []]
    assert tokenizer.decode([2, 5, 7, 6, 8, 3, 9]) == "unaffable ."


def test_pretokenize_splits_punctuation_and_cjk_and_folds_case():
    assert pretokenize("Hello, World!") == ["Hello", ",", "World", "!"]
    assert pretokenize("東京 Tower", lowercase=True) == ["東", "京", "tower"]
    assert WordPieceTokenizer(VOCABULARY, lowercase=True, strip_accents=True).encode(["THÉ Unable"]) == [[9, 5, 6]]


def test_the_vocabulary_must_start_with_the_special_tokens_once_each():
    with pytest.raises(ValueError, match="expected it to start with"):
        WordPieceTokenizer(["[UNK]", "[PAD]", "[START]", "[END]", "[MASK]"])
    with pytest.raises(ValueError, match="expected distinct tokens. Received: 'un' twice"):
        WordPieceTokenizer(VOCABULARY + ["un"])
