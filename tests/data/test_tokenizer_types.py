"""kzoo.data.load_tokenizer: every saved type comes back as its TensorFlow-capable class, with the same ids."""

import kzoo.data
from kzoo.data.tokenizer_types import TOKENIZER_TYPES


def test_each_saved_type_loads_into_its_kzoo_data_class(tmp_path, byte_tokenizer, sentence_piece):
    for index, tokenizer in enumerate((byte_tokenizer, sentence_piece)):
        tokenizer.save(tmp_path / str(index))
        loaded = kzoo.data.load_tokenizer(tmp_path / str(index))
        assert type(loaded) is TOKENIZER_TYPES[tokenizer.type_name] is type(tokenizer)
        assert loaded.encode(["twenty-two"]) == tokenizer.encode(["twenty-two"])
