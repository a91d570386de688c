import kzoo.data


def test_bytes_are_shifted_past_special_tokens(byte_tokenizer):
    assert byte_tokenizer.vocabulary_size == 261
    assert byte_tokenizer.encode(["hé", "", "A"]) == [[109, 200, 174], [], [70]]
    assert byte_tokenizer.decode([2, 109, 200, 174, 3]) == "hé"
    # keras-hub's ByteTokenizer lowercases by default; kzoo's does not.
    assert byte_tokenizer.decode(byte_tokenizer.encode(["MiXeD 👍"])[0]) == "MiXeD 👍"


def test_invalid_utf8_decodes_with_replacement(byte_tokenizer):
    assert byte_tokenizer.decode([0xFF + 5, 109]) == "\ufffdh"


def test_save_writes_only_the_config(tmp_path, byte_tokenizer):
    byte_tokenizer.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokenizer.json"]
    assert isinstance(kzoo.data.load_tokenizer(tmp_path), kzoo.data.ByteTokenizer)
