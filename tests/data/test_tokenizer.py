"""The shared tokenizer interface, save/load, and TF / TF-free id equality on every task."""

import json
import os

import numpy as np
import pytest

import kzoo.data
from kzoo.runtime import tokenizers as runtime_tokenizers

from .conftest import TEXT_TASKS

ODD_INPUTS = [
    "",
    " ",
    "\t\n",
    "Ünïcödé café naïve ÀÉÎÕÜ ß ﬁ",
    "日本語のテキスト 中文字符 한국어",
    "emoji 👍🏽 👨‍👩‍👧 ❤️ ok",
    "mixed Русский ελληνικά עברית عربى हिन्दी",
    "nbsp\u00a0and\u202fnarrow\u2009thin zero\u200bwidth soft\u00adhyphen",
    "x" * 300,
    "[MASK] <mask> <s> </s> [PAD] ##ing",
    "punctuation!!! ¿¡ «quotes» “curly” — dash… $5.00 @home #tag",
    "Dreihundertsiebenundvierzig, twenty-two.  Double  spaces.",
]


def task_samples():
    samples = []
    for name in TEXT_TASKS:
        task = kzoo.data.load_task(name)
        for split in ("train", "validation", "test"):
            texts = task.texts(split)
            samples += texts[:60] + texts[-60:]
    return samples


@pytest.fixture(scope="module")
def samples():
    return task_samples() + ODD_INPUTS


@pytest.mark.parametrize("which", ["word_piece", "sentence_piece", "byte_tokenizer"])
def test_tf_and_tf_free_ids_are_identical(request, tmp_path, samples, which):
    tokenizer = request.getfixturevalue(which)
    tokenizer.save(tmp_path)
    twin = runtime_tokenizers.load_tokenizer(tmp_path)
    tf_ids = tokenizer.encode(samples)
    python_ids = twin.encode(samples)
    mismatches = [(text, a, b) for text, a, b in zip(samples, tf_ids, python_ids) if a != b]
    assert not mismatches, mismatches[:3]
    assert twin.vocabulary_size == tokenizer.vocabulary_size
    decoded = [tokenizer.decode(ids) for ids in tf_ids[:200] + tf_ids[-len(ODD_INPUTS):]]
    assert decoded == [twin.decode(ids) for ids in tf_ids[:200] + tf_ids[-len(ODD_INPUTS):]]
    assert tf_ids[-len(ODD_INPUTS)] == []  # empty input -> no ids


def test_word_piece_parity_with_lowercase_and_accent_stripping(tmp_path, mixed_corpus, samples):
    tokenizer = kzoo.data.WordPieceTokenizer.train(mixed_corpus[::3], 600, lowercase=True, strip_accents=True)
    tokenizer.save(tmp_path)
    twin = runtime_tokenizers.load_tokenizer(tmp_path)
    texts = samples[::4] + ODD_INPUTS
    assert tokenizer.encode(texts) == twin.encode(texts)


@pytest.mark.parametrize("which", ["word_piece", "sentence_piece", "byte_tokenizer"])
def test_special_tokens_have_fixed_ids_and_are_saved(request, tmp_path, which):
    tokenizer = request.getfixturevalue(which)
    assert (tokenizer.pad_id, tokenizer.unknown_id, tokenizer.start_id, tokenizer.end_id, tokenizer.mask_id) == (0, 1, 2, 3, 4)
    tokenizer.save(tmp_path)
    with open(os.path.join(tmp_path, "tokenizer.json"), encoding="utf-8") as file:
        config = json.load(file)
    assert {name: entry["id"] for name, entry in config["special_tokens"].items()} == kzoo.data.SPECIAL_TOKEN_IDS
    assert config["format_version"] == 1 and config["vocabulary_size"] == tokenizer.vocabulary_size
    loaded = kzoo.data.load_tokenizer(tmp_path)
    assert type(loaded) is type(tokenizer)
    texts = ["twenty-two", "Anna Weber zog nach Köln."]
    assert loaded.encode(texts) == tokenizer.encode(texts)
    twin = runtime_tokenizers.load_tokenizer(tmp_path)
    assert (twin.pad_id, twin.unknown_id, twin.start_id, twin.end_id, twin.mask_id) == (0, 1, 2, 3, 4)


def test_special_tokens_are_never_produced_from_text(word_piece, sentence_piece, byte_tokenizer):
    text = ["[PAD] [UNK] [START] [END] [MASK] <pad> <unk> <s> </s> <mask>"]
    for tokenizer in (word_piece, sentence_piece, byte_tokenizer):
        ids = tokenizer.encode(text)[0]
        assert not {0, 2, 3, 4} & set(ids), type(tokenizer).__name__


def test_decode_stops_at_end_and_skips_pad_and_start(byte_tokenizer, sentence_piece):
    ids = byte_tokenizer.encode(["hé"])[0]
    assert byte_tokenizer.decode([2] + ids + [3] + ids + [0, 0]) == "hé"
    assert byte_tokenizer.decode(np.array([2] + ids, dtype=np.int32)) == "hé"
    pieces = sentence_piece.encode(["twenty-two thousand"])[0]
    assert sentence_piece.decode([2] + pieces + [3, 0]) == "twenty-two thousand"
    with pytest.raises(ValueError, match=r"expected ids in \[0, 261\)\. Received: 999"):
        byte_tokenizer.decode([999])


def test_encode_rejects_a_bare_string(byte_tokenizer):
    with pytest.raises(TypeError, match="expected a list of str"):
        byte_tokenizer.encode("hello")


def test_tokenize_is_a_tf_op_usable_in_tf_data(sentence_piece):
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(["twenty-two", ""]).batch(2).map(sentence_piece.tokenize)
    ragged = next(iter(dataset))
    assert isinstance(ragged, tf.RaggedTensor) and ragged.dtype == tf.int32
    assert ragged.to_list() == sentence_piece.encode(["twenty-two", ""])


def test_load_tokenizer_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no tokenizer.json"):
        kzoo.data.load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"format_version": 1, "type": "magic", "special_tokens": {}}))
    with pytest.raises(ValueError, match="type='magic'"):
        kzoo.data.load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text(json.dumps({"format_version": 7}))
    with pytest.raises(ValueError, match="format_version=7"):
        kzoo.data.load_tokenizer(tmp_path)
    with pytest.raises(ValueError, match="format_version=7"):
        runtime_tokenizers.load_tokenizer(tmp_path)


@pytest.mark.slow
def test_tf_and_tf_free_ids_are_identical_on_every_example_of_every_task(tmp_path, word_piece, sentence_piece):
    texts = [text for name in TEXT_TASKS for split in ("train", "validation", "test") for text in kzoo.data.load_task(name).texts(split)]
    assert len(texts) > 200_000
    for index, tokenizer in enumerate((word_piece, sentence_piece)):
        folder = tmp_path / str(index)
        tokenizer.save(folder)
        twin = runtime_tokenizers.load_tokenizer(folder)
        tf_ids = tokenizer.encode(texts)
        python_ids = twin.encode(texts)
        mismatches = [(text, a, b) for text, a, b in zip(texts, tf_ids, python_ids) if a != b]
        assert not mismatches, (type(tokenizer).__name__, len(mismatches), mismatches[:2])
