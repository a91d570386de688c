import pytest

import kzoo.data


def test_task_tokenizer_is_cached_and_lossless_on_unseen_test_values():
    tokenizer = kzoo.data.train_task_tokenizer("numbers_en_es")
    assert kzoo.data.train_task_tokenizer("numbers_en_es") is tokenizer
    assert isinstance(tokenizer, kzoo.data.SentencePieceTokenizer)
    targets = [target for _, target in kzoo.data.load_task("numbers_en_es").test]
    ids = tokenizer.encode(targets)
    assert not any(tokenizer.unknown_id in row for row in ids)
    assert [tokenizer.decode(row) for row in ids] == targets
    longest = max(len(row) for row in ids)
    assert longest + 2 <= kzoo.data.DEFAULT_SEQUENCE_LENGTHS["translation"]


def test_task_tokenizer_errors():
    with pytest.raises(ValueError, match="algorithm='bpe'"):
        kzoo.data.train_task_tokenizer("numbers_en_es", "bpe")
    with pytest.raises(ValueError, match="'digits' has images, not text"):
        kzoo.data.train_task_tokenizer("digits")
    assert isinstance(kzoo.data.train_task_tokenizer("language_id", "byte"), kzoo.data.ByteTokenizer)
