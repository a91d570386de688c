import pytest

import kzoo.data

VOCABULARY = ["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "un", "##able", "##aff", ".", "the", "thé"]


def test_greedy_longest_match_and_unknown_words():
    tokenizer = kzoo.data.WordPieceTokenizer(VOCABULARY)
    assert tokenizer.encode(["unable.", "unaffable", "zebra", "thé", ""]) == [[5, 6, 8], [5, 7, 6], [1], [10], []]
    assert tokenizer.decode([2, 5, 7, 6, 8, 3, 9]) == "unaffable ."
    assert tokenizer.vocabulary_size == len(VOCABULARY)


def test_lowercase_and_strip_accents():
    tokenizer = kzoo.data.WordPieceTokenizer(VOCABULARY, lowercase=True, strip_accents=True)
    assert tokenizer.encode(["THÉ Unable"]) == [[9, 5, 6]]


def test_vocabulary_must_start_with_the_special_tokens():
    with pytest.raises(ValueError, match=r"expected it to start with \['\[PAD\]', '\[UNK\]', '\[START\]', '\[END\]', '\[MASK\]'\]"):
        kzoo.data.WordPieceTokenizer(["[UNK]", "[PAD]", "[START]", "[END]", "[MASK]"])
    with pytest.raises(ValueError, match="expected distinct tokens. Received: 'un' twice"):
        kzoo.data.WordPieceTokenizer(VOCABULARY + ["un"])


def test_train_round_trips_seen_words(word_piece):
    assert word_piece.vocabulary[:5] == ["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]"]
    assert 500 < word_piece.vocabulary_size <= 1500
    text = "three hundred and forty - seven"
    ids = word_piece.encode([text])[0]
    assert 1 not in ids and word_piece.decode(ids) == text
    with pytest.raises(ValueError, match="vocabulary_size=3"):
        kzoo.data.WordPieceTokenizer.train(["a b"], 3)
