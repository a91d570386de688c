import pytest

import kzoo.data


def test_train_gives_fixed_special_pieces_and_lossless_round_trip(sentence_piece):
    assert [sentence_piece._processor.id_to_piece(i) for i in range(5)] == ["<pad>", "<unk>", "<s>", "</s>", "<mask>"]
    for text in ["twenty-seven thousand, seven hundred and nineteen", "22. November 2026", "vingt-deux"]:
        ids = sentence_piece.encode([text])[0]
        assert 1 not in ids and sentence_piece.decode(ids) == text


def test_small_corpus_gives_a_smaller_vocabulary_instead_of_failing():
    tokenizer = kzoo.data.SentencePieceTokenizer.train(["abc abd"] * 20, vocabulary_size=500, model_type="bpe")
    assert 5 < tokenizer.vocabulary_size < 500


def test_training_is_deterministic(mixed_corpus):
    first = kzoo.data.SentencePieceTokenizer.train(mixed_corpus[:500], 300, model_type="bpe")
    second = kzoo.data.SentencePieceTokenizer.train(mixed_corpus[:500], 300, model_type="bpe")
    assert first.proto == second.proto


def test_rejects_foreign_models_and_bad_arguments(sentence_piece):
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(["hello world"] * 10), model_writer=model, vocab_size=20, minloglevel=2, hard_vocab_limit=False
    )
    with pytest.raises(ValueError, match=r"expected its first pieces to be \['<pad>'"):
        kzoo.data.SentencePieceTokenizer(model.getvalue())
    with pytest.raises(ValueError, match="model_type='wordpiece'"):
        kzoo.data.SentencePieceTokenizer.train(["a"], 100, model_type="wordpiece")
