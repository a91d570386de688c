import pytest

from kzoo.data.errors import DataEncodingError, MalformedDataError


def test_malformed_data_error_is_one_sentence_with_file_and_line():
    error = MalformedDataError("pairs.tsv", 3, "at least 2 tab-separated fields", "hello")
    assert str(error) == "pairs.tsv, line 3: expected at least 2 tab-separated fields. Received: 'hello'"
    assert isinstance(error, ValueError) and (error.path, error.line_number) == ("pairs.tsv", 3)


def test_long_received_text_is_shortened_and_file_level_errors_have_no_line():
    error = MalformedDataError("img.png", None, "a PNG image", "x" * 200)
    assert str(error).startswith("img.png: expected a PNG image. Received: 'xxx")
    assert str(error).endswith("...'") and len(error.args[0]) < 130


def test_encoding_error_names_the_byte_offset():
    error = DataEncodingError("a.txt", 2, 17, "utf-8", "invalid start byte")
    assert str(error) == "a.txt, line 2: expected utf-8 text, but the byte at offset 17 does not decode (invalid start byte)."
    assert error.byte_offset == 17
    with pytest.raises(MalformedDataError):
        raise error
