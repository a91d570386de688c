"""Shared fixtures for tests/data: small tokenizers trained once per session."""

import pytest

TEXT_TASKS = ("numbers_en_de", "numbers_en_fr", "numbers_en_es", "numbers_en_it", "language_id", "faker_ner", "pydoc_topics")
# The cheapest tasks to generate that still cover every kind of text (and German/French via language_id).
CORPUS_TASKS = ("numbers_en_es", "numbers_en_it", "language_id", "faker_ner", "pydoc_topics")


@pytest.fixture(scope="session")
def mixed_corpus():
    """300 training texts of five text tasks: a small multilingual corpus."""
    import kzoo.data

    corpus = []
    for name in CORPUS_TASKS:
        texts = kzoo.data.load_task(name).texts("train")
        corpus += texts[:150] + texts[-150:]
    return corpus


@pytest.fixture(scope="session")
def word_piece(mixed_corpus):
    import kzoo.data

    return kzoo.data.WordPieceTokenizer.train(mixed_corpus, vocabulary_size=1500)


@pytest.fixture(scope="session")
def sentence_piece(mixed_corpus):
    import kzoo.data

    return kzoo.data.SentencePieceTokenizer.train(mixed_corpus, vocabulary_size=800)


@pytest.fixture(scope="session")
def byte_tokenizer():
    import kzoo.data

    return kzoo.data.ByteTokenizer()
