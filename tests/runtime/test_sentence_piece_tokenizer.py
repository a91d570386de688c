"""kzoo.runtime.SentencePieceTokenizer: the `sentencepiece` package over a kzoo model file."""

import pytest

import kzoo.data
from kzoo.runtime.sentence_piece_tokenizer import MODEL_FILE, SentencePieceTokenizer


@pytest.fixture(scope="module")
def proto():
    texts = ["twenty-two", "thirty-three", "forty-four", "vingt-deux", "trente-trois"] * 40
    return kzoo.data.SentencePieceTokenizer.train(texts, vocabulary_size=40).proto


def test_the_runtime_reads_the_model_file_and_gives_the_training_ids(proto, tmp_path):
    trained = kzoo.data.SentencePieceTokenizer(proto)
    trained.save(tmp_path)
    runtime = SentencePieceTokenizer.from_file(tmp_path / MODEL_FILE)
    assert runtime.encode(["twenty-two", "vingt-deux"]) == trained.encode(["twenty-two", "vingt-deux"])
    assert runtime.decode([2, *runtime.encode(["thirty-three"])[0], 3]) == "thirty-three"
    assert runtime.encode([]) == []


def test_a_model_without_kzoo_special_pieces_is_refused():
    with pytest.raises(ValueError, match="expected the bytes of a SentencePiece model"):
        SentencePieceTokenizer("not bytes")
