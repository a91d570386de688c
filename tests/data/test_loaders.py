import json
import logging

import numpy as np
import pytest

import kzoo.data
from kzoo.data import DataEncodingError, LoaderStats, MalformedDataError


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


# ----------------------------------------------------------------------------- TSV


def test_tsv_reads_pairs_and_ignores_attribution(tmp_path):
    path = write(tmp_path, "fra.txt", "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\r\nHi.\tSalut !\n\n")
    stats = LoaderStats()
    assert list(kzoo.data.read_parallel_tsv(path, stats=stats)) == [("Go.", "Va !"), ("Hi.", "Salut !")]
    assert (stats.lines, stats.examples, stats.blank_lines, stats.skipped) == (3, 2, 1, 0)


def test_tsv_columns_reverse_and_header(tmp_path):
    path = write(tmp_path, "pairs.tsv", "en\tde\none\teins\n")
    assert list(kzoo.data.read_parallel_tsv(path, columns=(1, 0), skip_header=True)) == [("eins", "one")]


def test_tsv_malformed_line_names_file_line_and_expectation(tmp_path):
    path = write(tmp_path, "pairs.tsv", "one\teins\ntwo zwei\nthree\tdrei\n")
    with pytest.raises(MalformedDataError, match=r"pairs\.tsv, line 2: expected at least 2 tab-separated fields") as info:
        list(kzoo.data.read_parallel_tsv(path))
    assert info.value.line_number == 2 and info.value.path == path
    assert isinstance(info.value, ValueError)


def test_tsv_empty_target_is_malformed(tmp_path):
    path = write(tmp_path, "pairs.tsv", "one\teins\ntwo\t \n")
    with pytest.raises(MalformedDataError, match=r"line 2: expected a non-empty target field"):
        list(kzoo.data.read_parallel_tsv(path))


def test_tsv_skip_malformed_counts_and_logs(tmp_path, caplog):
    path = write(tmp_path, "pairs.tsv", "one\teins\nbad\ntwo\tzwei\nworse\n")
    stats = LoaderStats()
    with caplog.at_level(logging.WARNING, logger="kzoo.data"):
        pairs = list(kzoo.data.read_parallel_tsv(path, skip_malformed=True, stats=stats))
    assert pairs == [("one", "eins"), ("two", "zwei")]
    assert stats.skipped == 2
    assert stats.skipped_locations == [(path, 2), (path, 4)]
    assert "skipped 2 malformed lines" in caplog.text and "pairs.tsv:2" in caplog.text


def test_bad_encoding_names_byte_offset(tmp_path):
    # line 1 is 9 bytes ("one\teins\n"); the bad byte is byte 5 (0-based) of line 2.
    path = write(tmp_path, "pairs.tsv", b"one\teins\ntwo\tz\xffei\n")
    with pytest.raises(DataEncodingError, match=r"pairs\.tsv, line 2: expected utf-8 text, but the byte at offset 14 does not decode") as info:
        list(kzoo.data.read_parallel_tsv(path))
    assert info.value.byte_offset == 14
    stats = LoaderStats()
    assert list(kzoo.data.read_parallel_tsv(path, skip_malformed=True, stats=stats)) == [("one", "eins")]
    assert stats.skipped == 1


def test_utf8_bom_is_dropped_and_offsets_still_count_it(tmp_path):
    path = write(tmp_path, "bom.tsv", b"\xef\xbb\xbfa\tb\n\xff\n")
    with pytest.raises(DataEncodingError, match="offset 7"):
        list(kzoo.data.read_parallel_tsv(path))
    assert next(kzoo.data.read_parallel_tsv(path, skip_malformed=True)) == ("a", "b")


def test_missing_file_is_one_sentence(tmp_path):
    missing = str(tmp_path / "nope.tsv")
    with pytest.raises(FileNotFoundError, match=r"^Received an invalid value for argument `paths`, the file does not exist\. Received: paths='.*nope\.tsv'$"):
        kzoo.data.read_parallel_tsv(missing)  # raised at once, not on first iteration


def test_utf16_encoding_is_rejected(tmp_path):
    path = write(tmp_path, "pairs.tsv", "a\tb\n")
    with pytest.raises(ValueError, match="encoding='utf-16'"):
        kzoo.data.read_parallel_tsv(path, encoding="utf-16")


def test_tsv_dataset_validates_up_front_and_knows_cardinality(tmp_path):
    import tensorflow as tf

    good = write(tmp_path, "good.tsv", "one\teins\ntwo\tzwei\n")
    dataset = kzoo.data.parallel_tsv_dataset(good)
    assert dataset.cardinality().numpy() == 2
    assert [(s.decode(), t.decode()) for s, t in dataset.as_numpy_iterator()] == [("one", "eins"), ("two", "zwei")]
    assert dataset.element_spec == (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string))
    bad = write(tmp_path, "bad.tsv", "one\teins\nzwei\n")
    with pytest.raises(MalformedDataError, match=r"bad\.tsv, line 2"):
        kzoo.data.parallel_tsv_dataset(bad)
    stats = LoaderStats()
    dataset = kzoo.data.parallel_tsv_dataset(bad, skip_malformed=True, stats=stats)
    assert stats.skipped == 1 and stats.examples == 1
    assert len(list(dataset)) == 1 and len(list(dataset)) == 1  # streams again each epoch
    assert stats.skipped == 1  # streaming passes do not count twice


def test_tsv_dataset_without_validation_reports_inside_tf_data(tmp_path):
    import tensorflow as tf

    bad = write(tmp_path, "bad.tsv", "one\teins\nzwei\n")
    dataset = kzoo.data.parallel_tsv_dataset(bad, validate=False)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"bad\.tsv, line 2: expected at least 2"):
        list(dataset)


# ----------------------------------------------------------------------------- JSONL


def test_jsonl_reads_fields(tmp_path):
    lines = [{"text": "bonjour", "label": 4, "extra": 1}, {"text": "hallo", "label": 1}]
    path = write(tmp_path, "data.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    assert list(kzoo.data.read_jsonl(path, fields=("text", "label"))) == [("bonjour", 4), ("hallo", 1)]


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ('{"text": "x"', r"line 2: expected one JSON object per line \(Expecting ',' delimiter"),
        ('["text", 1]', r"line 2: expected one JSON object per line\."),
        ('{"text": "x"}', r"line 2: expected a JSON object with the field 'label'"),
    ],
)
def test_jsonl_malformed_lines(tmp_path, bad_line, message):
    path = write(tmp_path, "data.jsonl", '{"text": "a", "label": 0}\n' + bad_line + "\n")
    with pytest.raises(MalformedDataError, match=message):
        list(kzoo.data.read_jsonl(path, fields=("text", "label")))
    stats = LoaderStats()
    assert len(list(kzoo.data.read_jsonl(path, fields=("text", "label"), skip_malformed=True, stats=stats))) == 1
    assert stats.skipped == 1


def test_jsonl_dataset_infers_kinds_and_rejects_changes(tmp_path):
    import tensorflow as tf

    path = write(tmp_path, "data.jsonl", '{"text": "a", "label": 0, "tags": ["O"]}\n{"text": "b", "label": 1, "tags": []}\n')
    dataset = kzoo.data.jsonl_dataset(path, fields=("text", "label", "tags"))
    assert dataset.element_spec == (
        tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int64), tf.TensorSpec([None], tf.string),
    )
    rows = list(dataset.as_numpy_iterator())
    assert rows[1][1] == 1 and rows[0][2].tolist() == [b"O"]
    changed = write(tmp_path, "changed.jsonl", '{"text": "a", "label": 0}\n{"text": "b", "label": "one"}\n')
    with pytest.raises(MalformedDataError, match=r"changed\.jsonl, line 2: expected field 'label' to be a int"):
        kzoo.data.jsonl_dataset(changed, fields=("text", "label"))


# ----------------------------------------------------------------------------- CoNLL

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER
"""


def test_conll_reads_sentences(tmp_path):
    path = write(tmp_path, "eng.train", CONLL)
    stats = LoaderStats()
    sentences = list(kzoo.data.read_conll(path, stats=stats))
    assert sentences == [
        (("EU", "rejects", "German"), ("B-ORG", "O", "B-MISC")),
        (("Peter", "Blackburn"), ("B-PER", "I-PER")),
    ]
    assert stats.examples == 2 and stats.blank_lines == 2


def test_conll_column_count_must_match(tmp_path):
    path = write(tmp_path, "eng.train", CONLL.replace("rejects VBZ B-VP O", "rejects O"))
    with pytest.raises(MalformedDataError, match=r"eng\.train, line 4: expected 4 whitespace-separated columns like line 3"):
        list(kzoo.data.read_conll(path))


def test_conll_bad_tag_and_skipping_drops_whole_sentence(tmp_path):
    path = write(tmp_path, "eng.train", CONLL.replace("B-PER", "PERSON"))
    with pytest.raises(MalformedDataError, match=r"line 7: expected a BIO tag like O, B-PER or I-LOC in the tag column, not 'PERSON'"):
        list(kzoo.data.read_conll(path))
    stats = LoaderStats()
    sentences = list(kzoo.data.read_conll(path, skip_malformed=True, stats=stats))
    assert [tokens for tokens, _ in sentences] == [("EU", "rejects", "German")]
    assert (stats.skipped, stats.skipped_examples) == (1, 1)


def test_conll_dataset_maps_label_names(tmp_path):
    path = write(tmp_path, "eng.train", CONLL)
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    rows = list(kzoo.data.conll_dataset(path, label_names=names).as_numpy_iterator())
    assert rows[0][1].tolist() == [3, 0, 5] and rows[1][1].tolist() == [1, 2]
    with pytest.raises(MalformedDataError, match=r"line 5: expected a tag from `label_names`, not 'B-MISC'"):
        kzoo.data.conll_dataset(path, label_names=names[:5])


# ----------------------------------------------------------------------------- text


def test_text_lines_and_paragraphs(tmp_path):
    path = write(tmp_path, "corpus.txt", "first line\nsecond line\n\n\nthird\n")
    assert list(kzoo.data.read_text(path)) == ["first line", "second line", "third"]
    assert list(kzoo.data.read_text(path, unit="paragraph")) == ["first line\nsecond line", "third"]
    dataset = kzoo.data.text_dataset(path, unit="paragraph")
    assert dataset.cardinality().numpy() == 2
    with pytest.raises(ValueError, match="unit='word'"):
        kzoo.data.read_text(path, unit="word")


# ----------------------------------------------------------------------------- image folders


def _png(path, value, size=(4, 6)):
    import tensorflow as tf

    image = tf.fill([size[0], size[1], 3], tf.constant(value, tf.uint8))
    tf.io.write_file(str(path), tf.io.encode_png(image))


def _jpeg(path, value):
    import tensorflow as tf

    tf.io.write_file(str(path), tf.io.encode_jpeg(tf.fill([4, 6, 3], tf.constant(value, tf.uint8))))


def test_image_folder_decodes_and_labels(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    _png(tmp_path / "cat" / "a.png", 255)
    _jpeg(tmp_path / "dog" / "b.JPG", 0)
    (tmp_path / "dog" / ".DS_Store").write_bytes(b"x")
    assert kzoo.data.image_folder_class_names(tmp_path) == ["cat", "dog"]
    items = list(kzoo.data.read_image_folder(tmp_path, image_size=(2, 3)))
    assert [label for _, label in items] == [0, 1]
    assert items[0][0].shape == (2, 3, 3) and items[0][0].dtype == np.float32
    assert np.allclose(items[0][0], 1.0) and np.allclose(items[1][0], 0.0, atol=0.02)
    dataset = kzoo.data.image_folder_dataset(tmp_path, channels=1)
    assert dataset.cardinality().numpy() == 2
    images, labels = next(iter(dataset.batch(2)))
    assert images.shape == (2, 4, 6, 1) and labels.numpy().tolist() == [0, 1]


def test_image_folder_rejects_other_files(tmp_path):
    (tmp_path / "cat").mkdir()
    _png(tmp_path / "cat" / "a.png", 1)
    (tmp_path / "cat" / "notes.txt").write_text("hi")
    (tmp_path / "cat" / "fake.png").write_bytes(b"not a png at all")
    with pytest.raises(MalformedDataError, match=r"fake\.png: expected a PNG file, but its first bytes are not a PNG signature"):
        list(kzoo.data.read_image_folder(tmp_path))
    stats = LoaderStats()
    assert len(list(kzoo.data.read_image_folder(tmp_path, skip_malformed=True, stats=stats))) == 1
    assert stats.skipped == 2 and any(path.endswith("notes.txt") for path, _ in stats.skipped_locations)


def test_image_folder_truncated_image_names_the_file(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(MalformedDataError, match=r"broken\.png: expected a PNG or JPEG image that decodes"):
        list(kzoo.data.read_image_folder(tmp_path))


def test_image_folder_without_classes(tmp_path):
    with pytest.raises(ValueError, match="found no subfolder"):
        kzoo.data.image_folder_class_names(tmp_path)
    with pytest.raises(FileNotFoundError, match="the folder does not exist"):
        kzoo.data.image_folder_class_names(tmp_path / "missing")
