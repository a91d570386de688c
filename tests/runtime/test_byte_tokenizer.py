"""kzoo.runtime.ByteTokenizer: UTF-8 bytes past the special ids, without TensorFlow."""

from kzoo.runtime.byte_tokenizer import BYTE_OFFSET, ByteTokenizer


def test_bytes_shift_past_the_special_ids_and_decode_back():
    tokenizer = ByteTokenizer()
    assert BYTE_OFFSET == 5 and tokenizer.vocabulary_size == 261
    assert tokenizer.encode(["hé"]) == [[109, 200, 174]]
    assert tokenizer.decode([2, 109, 200, 174, 3, 0]) == "hé"
    assert tokenizer.decode([5 + 0xC3]) == "\ufffd"  # A cut multi-byte character.
