import numpy as np
import pytest

import kzoo.data
from kzoo.runtime import tokenizers as runtime_tokenizers
from kzoo.runtime.packing import pack_batch

PAIRS = [
    ("three hundred and forty-seven", "dreihundertsiebenundvierzig"),
    ("November 22, 2026", "22. November 2026"),
    ("one", "eins"),
    ("twelve thousand", "zwölftausend"),
    ("x" * 80, "y" * 80),
]


def as_numpy(batch):
    import tensorflow as tf

    return tf.nest.map_structure(lambda t: t.numpy(), batch)


def batches(dataset):
    return [as_numpy(batch) for batch in dataset]


# ----------------------------------------------------------------------------- translation


def test_translation_packing_and_teacher_forcing(byte_tokenizer):
    twin = runtime_tokenizers.ByteTokenizer()
    [(inputs, targets, weights)] = batches(kzoo.data.translation_dataset(PAIRS, byte_tokenizer, batch_size=8, sequence_length=24))
    assert set(inputs) == {"encoder_token_ids", "encoder_padding_mask", "decoder_token_ids", "decoder_padding_mask"}
    for array in (*inputs.values(), targets):
        assert array.shape == (5, 24) and array.dtype == np.int32
    assert weights.dtype == np.float32
    for row, (source, target) in enumerate(PAIRS):
        expected_encoder, expected_mask = pack_batch(twin.encode([source]), start_id=2, end_id=3, max_length=24, width=24)
        assert inputs["encoder_token_ids"][row].tolist() == expected_encoder[0].tolist()
        assert inputs["encoder_padding_mask"][row].tolist() == expected_mask[0].tolist()
        full, _ = pack_batch(twin.encode([target]), start_id=2, end_id=3, max_length=25, width=25)
        assert inputs["decoder_token_ids"][row].tolist() == full[0, :-1].tolist()
        assert targets[row].tolist() == full[0, 1:].tolist()
    assert np.array_equal(inputs["decoder_token_ids"][:, 1:], targets[:, :-1])
    assert (inputs["decoder_token_ids"][:, 0] == 2).all()
    assert np.array_equal(weights, (targets != 0).astype(np.float32))
    assert np.array_equal(inputs["decoder_padding_mask"], (inputs["decoder_token_ids"] != 0).astype(np.int32))
    # "eins" -> [e, i, n, s, END, pad...]: four bytes and the end token are scored.
    assert weights[2].sum() == 5 and targets[2][4] == 3
    # The 80-character pair is truncated but still ends with the end token.
    assert inputs["encoder_token_ids"][4][-1] == 3 and targets[4][-1] == 3 and weights[4].all()


def test_translation_separate_target_length(byte_tokenizer):
    [(inputs, targets, _)] = batches(
        kzoo.data.translation_dataset(PAIRS, byte_tokenizer, batch_size=8, sequence_length=30, target_sequence_length=12)
    )
    assert inputs["encoder_token_ids"].shape == (5, 30)
    assert inputs["decoder_token_ids"].shape == targets.shape == (5, 12)


def test_translation_bucketing_pads_to_the_smallest_fitting_bucket(sentence_piece):
    task = kzoo.data.load_task("numbers_en_de")
    pairs = task.validation[:300]
    dataset = kzoo.data.translation_dataset(pairs, sentence_piece, batch_size=16, bucket_lengths=[8, 16, 32, 64])
    seen = 0
    lengths = set()
    for inputs, targets, weights in batches(dataset):
        length = inputs["encoder_token_ids"].shape[1]
        lengths.add(length)
        assert length in (8, 16, 32, 64) and targets.shape[1] == length
        longest = max(inputs["encoder_padding_mask"].sum(1).max(), weights.sum(1).max())
        smaller = [b for b in (8, 16, 32, 64) if b < length]
        assert longest <= length and (not smaller or longest > smaller[-1])
        assert np.array_equal(inputs["decoder_token_ids"][:, 1:], targets[:, :-1])
        seen += len(targets)
    assert seen == 300 and len(lengths) >= 2


def test_translation_from_a_tsv_file(tmp_path, byte_tokenizer):
    path = tmp_path / "pairs.tsv"
    path.write_text("one\teins\ntwo\tzwei\tattribution\n", encoding="utf-8")
    dataset = kzoo.data.translation_dataset(kzoo.data.parallel_tsv_dataset(str(path)), byte_tokenizer, batch_size=4, sequence_length=8)
    [(inputs, targets, _)] = batches(dataset)
    assert byte_tokenizer.decode(inputs["encoder_token_ids"][1]) == "two"
    assert byte_tokenizer.decode(targets[0]) == "eins"


def test_shuffle_is_seeded_and_reshuffles_each_epoch(byte_tokenizer):
    examples = [(f"text {i}", i % 3) for i in range(64)]

    def order(dataset):
        return [tuple(row) for _, labels in batches(dataset) for row in [labels.tolist()]]

    first = kzoo.data.classification_dataset(examples, byte_tokenizer, batch_size=64, sequence_length=12, shuffle=True, seed=7)
    second = kzoo.data.classification_dataset(examples, byte_tokenizer, batch_size=64, sequence_length=12, shuffle=True, seed=7)
    epoch_one, epoch_two = order(first), order(first)
    assert epoch_one == order(second)
    assert epoch_one != epoch_two
    unshuffled = kzoo.data.classification_dataset(examples, byte_tokenizer, batch_size=64, sequence_length=12)
    assert order(unshuffled) == [tuple(label for _, label in examples)]


def test_cache_gives_the_same_batches(byte_tokenizer):
    fresh = batches(kzoo.data.translation_dataset(PAIRS, byte_tokenizer, batch_size=2, sequence_length=16))
    cached = kzoo.data.translation_dataset(PAIRS, byte_tokenizer, batch_size=2, sequence_length=16, cache=True)
    for _ in range(2):
        again = batches(cached)
        assert all(np.array_equal(a[1], b[1]) for a, b in zip(fresh, again))


# ----------------------------------------------------------------------------- classification


def test_classification_inputs_and_labels(sentence_piece):
    task = kzoo.data.load_task("language_id")
    examples = task.test[:40]
    [(inputs, labels)] = batches(kzoo.data.classification_dataset(examples, sentence_piece, batch_size=40, sequence_length=16))
    assert set(inputs) == {"token_ids", "segment_ids", "padding_mask"} and inputs["token_ids"].shape == (40, 16)
    assert not inputs["segment_ids"].any() and inputs["segment_ids"].dtype == np.int32
    assert labels.tolist() == [label for _, label in examples] and labels.dtype == np.int32
    assert (inputs["token_ids"][:, 0] == 2).all()
    lengths = inputs["padding_mask"].sum(1)
    assert all(inputs["token_ids"][row, lengths[row] - 1] == 3 for row in range(40))
    assert np.array_equal(inputs["padding_mask"], (inputs["token_ids"] != 0).astype(np.int32))


# ----------------------------------------------------------------------------- tagging


def test_tagging_labels_only_the_first_sub_token_of_each_word(word_piece, tmp_path):
    task = kzoo.data.load_task("faker_ner")
    examples = task.test[:32]
    [(inputs, labels, weights)] = batches(kzoo.data.tagging_dataset(examples, word_piece, batch_size=32, sequence_length=96))
    word_piece.save(tmp_path)
    twin = runtime_tokenizers.load_tokenizer(tmp_path)
    for row, (tokens, tags) in enumerate(examples):
        scored = weights[row] == 1
        assert labels[row][scored].tolist() == list(tags)
        ids, starts = twin.encode_words(list(tokens))
        assert inputs["token_ids"][row][1 : len(ids) + 1].tolist() == ids
        assert np.flatnonzero(scored).tolist() == [start + 1 for start in starts]
    assert (weights[:, 0] == 0).all() and (weights[inputs["token_ids"] == 0] == 0).all()
    assert inputs["segment_ids"].shape == inputs["token_ids"].shape and not inputs["segment_ids"].any()


def test_tagging_with_tag_names_and_a_conll_file(tmp_path, byte_tokenizer):
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    examples = [(("Anna", "Weber", "lives"), ("B-PER", "I-PER", "O"))]
    [(inputs, labels, weights)] = batches(
        kzoo.data.tagging_dataset(examples, byte_tokenizer, label_names=names, batch_size=1, sequence_length=24)
    )
    # [START] A n n a _ W e b e r _ l i v e s [END]: word starts at 1, 6 and 12.
    assert np.flatnonzero(weights[0]).tolist() == [1, 6, 12]
    assert labels[0][[1, 6, 12]].tolist() == [1, 2, 0]
    with pytest.raises(ValueError, match="tag 'B-ORG' is not in `label_names`"):
        kzoo.data.tagging_dataset([(("X",), ("B-ORG",))], byte_tokenizer, label_names=names, sequence_length=8)
    path = tmp_path / "ner.conll"
    path.write_text("Anna B-PER\nWeber I-PER\n\nParis B-LOC\n", encoding="utf-8")
    sentences = kzoo.data.conll_dataset(str(path))
    found = batches(kzoo.data.tagging_dataset(sentences, byte_tokenizer, label_names=names, batch_size=2, sequence_length=16))
    (_, conll_labels, conll_weights) = found[0]
    assert conll_labels[0][conll_weights[0] == 1].tolist() == [1, 2]
    assert conll_labels[1][conll_weights[1] == 1].tolist() == [3]


# ----------------------------------------------------------------------------- language modelling


def test_language_modeling_packs_documents_into_full_windows(byte_tokenizer):
    texts = ["first text", "second", "third one here"]
    dataset = kzoo.data.language_modeling_dataset(texts, byte_tokenizer, batch_size=2, sequence_length=8)
    found = batches(dataset)
    stream = [id_ for text in texts for id_ in [2] + byte_tokenizer.encode([text])[0] + [3]]
    windows = [stream[i : i + 9] for i in range(0, len(stream) - 8, 9)]
    token_ids = np.concatenate([inputs["token_ids"] for inputs, _, _ in found])
    targets = np.concatenate([t for _, t, _ in found])
    assert token_ids.tolist() == [w[:-1] for w in windows]
    assert targets.tolist() == [w[1:] for w in windows]
    assert all(w.all() for _, _, w in found) and all(i["padding_mask"].all() for i, _, _ in found)


def test_language_modeling_one_row_per_text(byte_tokenizer):
    [(inputs, targets, weights)] = batches(
        kzoo.data.language_modeling_dataset(["ab", "abcdefghij"], byte_tokenizer, batch_size=2, sequence_length=6, pack_documents=False)
    )
    a, b = (ord(c) + 5 for c in "ab")
    assert inputs["token_ids"][0].tolist() == [2, a, b, 3, 0, 0]
    assert targets[0].tolist() == [a, b, 3, 0, 0, 0]
    assert weights[0].tolist() == [1, 1, 1, 0, 0, 0]
    assert inputs["padding_mask"][0].tolist() == [1, 1, 1, 1, 0, 0]
    assert targets[1][-1] == 3 and weights[1].all()
    with pytest.raises(ValueError, match="expected None when `pack_documents=True`"):
        kzoo.data.language_modeling_dataset(["a"], byte_tokenizer, bucket_lengths=[8, 16])


def test_masked_lm_rates_on_a_large_batch(sentence_piece):
    texts = kzoo.data.load_task("pydoc_topics").train[:512]
    dataset = kzoo.data.masked_lm_dataset(texts, sentence_piece, batch_size=512, sequence_length=64, targets="positions")
    [(inputs, mask_ids, mask_weights)] = batches(dataset.take(1))
    assert set(inputs) == {"token_ids", "segment_ids", "padding_mask", "mask_positions"}
    assert inputs["mask_positions"].shape == mask_ids.shape == (512, 15)
    original = np.array([row for inputs_, *_ in batches(
        kzoo.data.classification_dataset([(t, 0) for t in texts], sentence_piece, batch_size=512, sequence_length=64)
    ) for row in inputs_["token_ids"]])
    real = ~np.isin(original, [0, 2, 3])  # pad, start and end are never selected; unknown (1) may be
    selectable = real.sum()
    selected = mask_weights.sum()
    assert abs(selected / selectable - 0.15) < 0.02
    rows, columns = np.nonzero(mask_weights)
    positions = inputs["mask_positions"][rows, columns]
    assert real[rows, positions].all()
    assert np.array_equal(mask_ids[rows, columns], original[rows, positions])
    now = inputs["token_ids"][rows, positions]
    masked = np.mean(now == 4)
    kept = np.mean(now == original[rows, positions])
    assert abs(masked - 0.8) < 0.04 and abs(kept - 0.1) < 0.03 and abs(1 - masked - kept - 0.1) < 0.03
    assert np.array_equal(inputs["padding_mask"], (original != 0).astype(np.int32))
    unselected = np.ones_like(original, dtype=bool)
    unselected[rows, positions] = False
    assert np.array_equal(inputs["token_ids"][unselected], original[unselected])


def test_masked_lm_dense_targets_for_models_that_predict_every_position(byte_tokenizer):
    texts = [f"sentence number {i} about masking" for i in range(64)]
    [(inputs, targets, weights)] = batches(kzoo.data.masked_lm_dataset(texts, byte_tokenizer, batch_size=64, sequence_length=40))
    assert set(inputs) == {"token_ids", "segment_ids", "padding_mask"}
    assert targets.shape == weights.shape == inputs["token_ids"].shape == (64, 40)
    original = np.array([[2] + ids + [3] + [0] * (38 - len(ids)) for ids in byte_tokenizer.encode(texts)])
    assert np.array_equal(targets, original)
    assert set(np.unique(weights)) <= {0.0, 1.0}
    assert not weights[np.isin(original, [0, 2, 3])].any()
    changed = inputs["token_ids"] != original
    assert not changed[weights == 0].any()  # only selected positions may change
    assert 0.10 < weights.sum() / np.isin(original, [0, 2, 3], invert=True).sum() < 0.20
    with pytest.raises(ValueError, match="targets='sparse'"):
        kzoo.data.masked_lm_dataset(texts, byte_tokenizer, sequence_length=8, targets="sparse")


# ----------------------------------------------------------------------------- images and tasks


def test_image_batches_from_digits():
    task = kzoo.data.load_task("digits")
    [(inputs, labels)] = batches(kzoo.data.image_classification_dataset(task.test[:10], batch_size=10))
    assert inputs["images"].shape == (10, 8, 8, 1) and inputs["images"].dtype == np.float32
    assert labels.tolist() == [label for _, label in task.test[:10]]


def test_task_dataset_dispatches_by_kind(byte_tokenizer):
    import tensorflow as tf

    spec = kzoo.data.task_dataset("language_id", "validation", byte_tokenizer, batch_size=4).element_spec
    assert spec[0]["token_ids"] == tf.TensorSpec([None, 48], tf.int32)
    spec = kzoo.data.task_dataset("faker_ner", "test", byte_tokenizer, batch_size=4, sequence_length=100).element_spec
    assert spec[1] == tf.TensorSpec([None, 100], tf.int32) and spec[2].dtype == tf.float32
    spec = kzoo.data.task_dataset("pydoc_topics", "test", byte_tokenizer, batch_size=4).element_spec
    assert spec[0]["token_ids"].shape.as_list() == [None, 128] and "segment_ids" not in spec[0]  # decoder models
    with pytest.raises(ValueError, match="tokenizer=None"):
        kzoo.data.task_dataset("numbers_en_de", "train")


def test_argument_errors(byte_tokenizer):
    with pytest.raises(ValueError, match="sequence_length=None"):
        kzoo.data.translation_dataset(PAIRS, byte_tokenizer)
    with pytest.raises(ValueError, match="expected None or the largest bucket length 32"):
        kzoo.data.classification_dataset([("a", 0)], byte_tokenizer, sequence_length=16, bucket_lengths=[8, 32])
    with pytest.raises(ValueError, match="batch_size=0"):
        kzoo.data.classification_dataset([("a", 0)], byte_tokenizer, batch_size=0, sequence_length=8)
    with pytest.raises(ValueError, match="bucket_lengths"):
        kzoo.data.classification_dataset([("a", 0)], byte_tokenizer, bucket_lengths=[2])
