"""kzoo.runtime.tokenizer_format: the saved-tokenizer format both sides read and write, and the shared decoding rules."""

import json

import pytest

from kzoo.runtime.byte_tokenizer import ByteTokenizer
from kzoo.runtime.tokenizer_format import CONFIG_FILE, SPECIAL_TOKEN_IDS, check_special_ids, read_config


def test_save_writes_the_format_read_config_reads(tmp_path):
    ByteTokenizer().save(tmp_path)
    config = read_config(tmp_path)
    assert config["format_version"] == 1 and config["type"] == "byte" and config["vocabulary_size"] == 261
    assert {name: entry["id"] for name, entry in config["special_tokens"].items()} == SPECIAL_TOKEN_IDS
    check_special_ids(tmp_path, config)


def test_another_version_or_other_special_ids_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"has no {CONFIG_FILE}"):
        read_config(tmp_path)
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"format_version": 2}))
    with pytest.raises(ValueError, match="has format_version=2; this kzoo reads version 1"):
        read_config(tmp_path)
    with pytest.raises(ValueError, match=r"its special token ids \{'pad': 1\} differ from"):
        check_special_ids(tmp_path, {"special_tokens": {"pad": {"id": 1}}})


def test_decoding_stops_at_the_end_and_drops_pad_and_start():
    tokenizer = ByteTokenizer()
    h, i = 5 + ord("h"), 5 + ord("i")
    assert tokenizer.decode([2, h, i, 3, h]) == "hi"
    assert tokenizer.decode_batch([[h, 0, i], [2, 3, h]]) == ["hi", ""]
    with pytest.raises(ValueError, match=r"expected ids in \[0, 261\). Received: 999"):
        tokenizer.decode([999])


def test_encode_words_marks_where_each_word_starts():
    ids, starts = ByteTokenizer().encode_words(["ab", "c"])
    assert ids == [5 + ord("a"), 5 + ord("b"), 5 + ord(" "), 5 + ord("c")]  # Every word but the last keeps its space.
    assert starts == [0, 3]
