"""`tf.data` input pipelines that turn examples into the batches kzoo models take.

Built from `tf.data` (batching, `bucket_by_sequence_length`, `shuffle`,
`cache`, `prefetch`, `rebatch`) and keras-hub layers (`StartEndPacker` for
packing with start/end tokens, `MaskedLMMaskGenerator` for MLM masking); the
tokenizers are the `kzoo.data` tokenizers' TensorFlow op path.

Every text pipeline runs the same stages:

1. examples -> chunks of 256 -> tokenize (vectorised) -> one example per element;
2. `cache` (optional: in memory, or a file path), then `shuffle` (optional,
   seeded, reshuffled every epoch);
3. batch and pack: `[start] + tokens + [end]`, truncated and right-padded with
   the pad id (0) either to a fixed `sequence_length`, or, with
   `bucket_lengths=[16, 32, 64]`, grouped by length with
   `bucket_by_sequence_length` and padded to the smallest bucket that fits;
4. build the model inputs, targets and sample weights; `prefetch`.

Model inputs are named `token_ids`, `padding_mask` (int32, 1 for real
tokens), `segment_ids` (int32, all 0: encoder pipelines feed one segment),
`encoder_token_ids`, `encoder_padding_mask`, `decoder_token_ids`,
`decoder_padding_mask`, `mask_positions` and `images`. Elements are
`(inputs, targets)` or `(inputs, targets, sample_weights)`, ready for
`model.fit`. Sample weights are float32 and 0 on padding.

Example:
```python
task = kzoo.data.load_task("numbers_en_de")
tokenizer = kzoo.data.SentencePieceTokenizer.train(task.texts(), vocabulary_size=1000)
train = kzoo.data.translation_dataset(task.train, tokenizer, batch_size=64, sequence_length=40, shuffle=True, seed=1)
inputs, targets, weights = next(iter(train))
inputs["decoder_token_ids"].shape  # (64, 40)
```
"""

import math

import numpy as np

from kzoo.runtime.validation import check_positive_int

TOKENIZE_CHUNK = 256
DEFAULT_SHUFFLE_BUFFER = 16_384
# Default lengths in `task_dataset` for the tokenizers of `train_task_tokenizer`
# (longest translation side: 21 pieces; 99th percentile of language_id: 35, of
# faker_ner: 49); byte tokenizers need about 4x.
DEFAULT_SEQUENCE_LENGTHS = {"translation": 32, "classification": 48, "tagging": 64, "language_modeling": 128,
                            "masked_lm": 128}


def _tf():
    import tensorflow as tf

    return tf


# ----------------------------------------------------------------------------- argument checks


def _lengths(sequence_length, bucket_lengths, minimum=3):
    """Returns (truncation length, sorted bucket lengths or None)."""
    if bucket_lengths is None:
        if not isinstance(sequence_length, (int, np.integer)) or sequence_length < minimum:
            raise ValueError(
                f"Received an invalid value for argument `sequence_length`, expected an integer >= {minimum} "
                f"(or pass `bucket_lengths`). Received: sequence_length={sequence_length!r}"
            )
        return int(sequence_length), None
    buckets = sorted(int(b) for b in bucket_lengths)
    if not buckets or buckets[0] < minimum or len(set(buckets)) != len(buckets):
        raise ValueError(
            f"Received an invalid value for argument `bucket_lengths`, expected distinct integers >= {minimum}. "
            f"Received: bucket_lengths={bucket_lengths!r}"
        )
    if sequence_length is not None and sequence_length != buckets[-1]:
        raise ValueError(
            "Received an invalid value for argument `sequence_length`, expected None or the largest bucket length "
            f"{buckets[-1]} when `bucket_lengths` is given. Received: sequence_length={sequence_length!r}"
        )
    return buckets[-1], buckets


# ----------------------------------------------------------------------------- sources


def _is_dataset(examples):
    tf = _tf()
    return isinstance(examples, tf.data.Dataset)


def _pairs_source(pairs):
    tf = _tf()
    if _is_dataset(pairs):
        return pairs
    pairs = list(pairs)
    sources = [source for source, _ in pairs]
    targets = [target for _, target in pairs]
    return tf.data.Dataset.from_tensor_slices((tf.constant(sources, tf.string), tf.constant(targets, tf.string)))


def _texts_source(texts):
    tf = _tf()
    if _is_dataset(texts):
        return texts
    return tf.data.Dataset.from_tensor_slices(tf.constant(list(texts), tf.string))


def _labelled_texts_source(examples):
    tf = _tf()
    if _is_dataset(examples):
        return _map(examples, lambda text, label: (text, tf.cast(label, tf.int32)))
    examples = list(examples)
    texts = tf.constant([text for text, _ in examples], tf.string)
    labels = tf.constant([int(label) for _, label in examples], tf.int32)
    return tf.data.Dataset.from_tensor_slices((texts, labels))


def _missing_label_names():
    return ValueError(
        "Received an invalid value for argument `label_names`, expected the tag names because the examples have "
        "string tags. Received: label_names=None"
    )


def _tag_ids(tags, label_names):
    if all(isinstance(tag, (int, np.integer)) for tag in tags):
        return [int(tag) for tag in tags]
    if label_names is None:
        raise _missing_label_names()
    index = {name: i for i, name in enumerate(label_names)}
    unknown = [tag for tag in tags if tag not in index]
    if unknown:
        raise ValueError(
            f"Received an invalid value for argument `examples`, tag {unknown[0]!r} is not in `label_names`. "
            f"Received: label_names={list(label_names)}"
        )
    return [index[tag] for tag in tags]


def _tagged_source(examples, label_names):
    tf = _tf()
    if _is_dataset(examples):
        _, tag_spec = examples.element_spec
        if tag_spec.dtype == tf.string:
            if label_names is None:
                raise _missing_label_names()
            table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(list(label_names)), tf.range(len(label_names), dtype=tf.int32)
                ),
                default_value=-1,
            )

            def lookup(tokens, tags):
                ids = table.lookup(tags)
                check = tf.debugging.assert_non_negative(ids, message="a tag is not in `label_names`")
                with tf.control_dependencies([check]):
                    return tokens, tf.identity(ids)

            return _map(examples, lookup)
        return _map(examples, lambda tokens, tags: (tokens, tf.cast(tags, tf.int32)))
    examples = list(examples)
    lengths = [len(tokens) for tokens, _ in examples]
    for (tokens, tags), length in zip(examples, lengths):
        if len(tags) != length:
            raise ValueError(
                "Received an invalid value for argument `examples`, every example needs one tag per token. "
                f"Received: {len(tokens)} tokens and {len(tags)} tags in {list(tokens)[:8]}"
            )
    flat_tokens = tf.constant([token for tokens, _ in examples for token in tokens], tf.string)
    flat_tags = tf.constant([tag for _, tags in examples for tag in _tag_ids(list(tags), label_names)], tf.int32)
    row_lengths = tf.constant(lengths, tf.int64)
    tokens = tf.RaggedTensor.from_row_lengths(flat_tokens, row_lengths)
    tags = tf.RaggedTensor.from_row_lengths(flat_tags, row_lengths)
    return tf.data.Dataset.from_tensor_slices((tokens, tags))


# ----------------------------------------------------------------------------- shared stages


def _map(dataset, function):
    """`dataset.map` in parallel (order kept) without AutoGraph.

    The mapped functions have no tensor-dependent Python control flow, and
    skipping AutoGraph's conversion of keras-hub's layers makes tracing ~5x
    faster.
    """
    tf = _tf()
    return dataset.map(tf.autograph.experimental.do_not_convert(function), num_parallel_calls=tf.data.AUTOTUNE)


def _dense(value):
    tf = _tf()
    return value.to_tensor() if isinstance(value, tf.RaggedTensor) else value


def _tokenized(dataset, tokenize_batch, ragged_input=False):
    """Chunks -> `tokenize_batch` (dict of ragged/dense tensors) -> one dict per example."""
    chunks = dataset.ragged_batch(TOKENIZE_CHUNK) if ragged_input else dataset.batch(TOKENIZE_CHUNK)
    examples = _map(chunks, tokenize_batch).unbatch()
    return _map(examples, lambda example: {key: _dense(value) for key, value in example.items()})


def _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size):
    if cache:
        dataset = dataset.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer_size or DEFAULT_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    return dataset


def _packed_batches(dataset, sequences, batch_size, sequence_length, bucket_lengths, drop_remainder):
    """Batches a dataset of dicts and packs its 1-D sequences.

    `sequences` maps a key to `(start, end, pad, extra)`: the start and end ids
    to add (or None), the pad id, and how many positions longer than the
    sequence length the packed row is (1 for a sequence that is shifted into
    inputs and targets afterwards). Other keys are batched as they are.
    """
    tf = _tf()
    import keras_hub

    if bucket_lengths is None:
        packers = {
            key: keras_hub.layers.StartEndPacker(
                sequence_length=sequence_length + extra, start_value=start, end_value=end, pad_value=pad, dtype="int32"
            )
            for key, (start, end, pad, extra) in sequences.items()
        }

        def pack(batch):
            return {key: packers[key](value) if key in packers else value for key, value in batch.items()}

        return _map(dataset.ragged_batch(batch_size, drop_remainder=drop_remainder), pack)

    def add_special_tokens(example):
        example = dict(example)
        for key, (start, end, _, extra) in sequences.items():
            room = sequence_length + extra - (start is not None) - (end is not None)
            parts = [example[key][:room]]
            if start is not None:
                parts.insert(0, tf.constant([start], tf.int32))
            if end is not None:
                parts.append(tf.constant([end], tf.int32))
            example[key] = tf.concat(parts, axis=0)
        return example

    def length(example):
        return tf.reduce_max(tf.stack([tf.shape(example[key])[0] - extra for key, (_, _, _, extra) in sequences.items()]))

    dataset = _map(dataset, add_special_tokens)
    padding_values = {
        key: tf.constant(sequences[key][2] if key in sequences else 0, spec.dtype)
        for key, spec in dataset.element_spec.items()
    }
    dataset = dataset.bucket_by_sequence_length(
        length,
        bucket_boundaries=[b + 1 for b in bucket_lengths[:-1]],
        bucket_batch_sizes=[batch_size] * len(bucket_lengths),
        padding_values=padding_values,
        drop_remainder=drop_remainder,
    )
    buckets = tf.constant(bucket_lengths, tf.int32)

    def pad_to_bucket(batch):
        longest = tf.reduce_max(tf.stack([tf.shape(batch[key])[1] - extra for key, (_, _, _, extra) in sequences.items()]))
        bucket = tf.gather(buckets, tf.searchsorted(buckets, tf.reshape(longest, [1]), side="left"))[0]
        batch = dict(batch)
        for key, (_, _, pad, extra) in sequences.items():
            missing = bucket + extra - tf.shape(batch[key])[1]
            batch[key] = tf.pad(batch[key], [[0, 0], [0, missing]], constant_values=pad)
        return batch

    return _map(dataset, pad_to_bucket)


def _finish(dataset, prefetch):
    tf = _tf()
    return dataset.prefetch(tf.data.AUTOTUNE) if prefetch else dataset


def _mask(token_ids, pad_id):
    tf = _tf()
    return tf.cast(tf.not_equal(token_ids, pad_id), tf.int32)


def _decoder_mask(token_ids, pad_id):
    """Padding mask of decoder inputs; column 0, the decoder start token, is always real (Marian starts from pad)."""
    tf = _tf()
    mask = _mask(token_ids, pad_id)
    return tf.concat([tf.ones_like(mask[:, :1]), mask[:, 1:]], axis=1)


def _encoder_inputs(token_ids, pad_id):
    """`token_ids`, `padding_mask` and all-zero `segment_ids` (one segment) for encoder models."""
    tf = _tf()
    return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids), "padding_mask": _mask(token_ids, pad_id)}


# ----------------------------------------------------------------------------- translation


def translation_dataset(
    pairs, tokenizer, *, target_tokenizer=None, batch_size=32, sequence_length=None, target_sequence_length=None,
    bucket_lengths=None, shuffle=False, seed=None, shuffle_buffer_size=None, cache=False, prefetch=True,
    drop_remainder=False,
):
    """Seq2seq batches with teacher forcing from `(source, target)` pairs.

    The source is packed as `[start] + source + [end]`; the target as
    `[start] + target + [end]`, then shifted: the decoder reads all but the
    last position and predicts all but the first.

    Args:
        pairs: list of `(source, target)` strings, or a `tf.data.Dataset` of
            scalar string pairs (e.g. `parallel_tsv_dataset`).
        tokenizer: a `kzoo.data` tokenizer for the sources (and the targets
            unless `target_tokenizer` is given).
        target_tokenizer: tokenizer for the targets. Defaults to `tokenizer`.
        batch_size: int. Defaults to 32.
        sequence_length: int. Encoder length `S` (and decoder length unless
            `target_sequence_length`); None when `bucket_lengths` is given.
        target_sequence_length: int or None. Decoder length `T` (fixed mode only).
        bucket_lengths: list of int or None. Pad each batch to the smallest of
            these lengths that fits its longest source or target.
        shuffle: bool. Shuffle examples every epoch. Defaults to False.
        seed: int or None. Shuffle seed.
        shuffle_buffer_size: int or None. Defaults to 16384.
        cache: bool or str. Cache tokenized examples in memory (True) or in files
            with this prefix. Defaults to False.
        prefetch: bool. Defaults to True.
        drop_remainder: bool. Drop the last incomplete batch. Defaults to False.

    Returns:
        A dataset of `(inputs, targets, sample_weights)`: `inputs` has
        `encoder_token_ids` and `encoder_padding_mask` `[B, S]`,
        `decoder_token_ids` and `decoder_padding_mask` `[B, T]`; `targets` is
        `[B, T]` int32 (the decoder ids shifted left by one); `sample_weights`
        `[B, T]` float32, 0 where the target is padding.

    Example:
    ```python
    batches = kzoo.data.translation_dataset(task.train, tokenizer, batch_size=64, sequence_length=40)
    model.fit(batches, epochs=3)
    ```
    """
    tf = _tf()
    check_positive_int("batch_size", batch_size)
    sequence_length, buckets = _lengths(sequence_length, bucket_lengths)
    if buckets is not None and target_sequence_length is not None:
        raise ValueError(
            "Received an invalid value for argument `target_sequence_length`, expected None when `bucket_lengths` is "
            f"given (both sides share the bucket length). Received: target_sequence_length={target_sequence_length!r}"
        )
    target_tokenizer = target_tokenizer or tokenizer
    target_length = sequence_length if target_sequence_length is None else target_sequence_length
    if buckets is None:
        _lengths(target_length, None, minimum=2)

    def tokenize(sources, targets):
        return {"encoder": tokenizer.tokenize(sources), "decoder": target_tokenizer.tokenize(targets)}

    dataset = _tokenized(_pairs_source(pairs), tokenize)
    dataset = _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size)
    if buckets is None and target_length != sequence_length:
        dataset = _packed_batches_two_lengths(
            dataset, tokenizer, target_tokenizer, batch_size, sequence_length, target_length, drop_remainder
        )
    else:
        sequences = {
            "encoder": (tokenizer.start_id, tokenizer.end_id, tokenizer.pad_id, 0),
            "decoder": (target_tokenizer.start_id, target_tokenizer.end_id, target_tokenizer.pad_id, 1),
        }
        dataset = _packed_batches(dataset, sequences, batch_size, sequence_length, buckets, drop_remainder)

    pad = target_tokenizer.pad_id

    def teacher_forcing(batch):
        decoder = batch["decoder"]
        decoder_inputs, targets = decoder[:, :-1], decoder[:, 1:]
        inputs = {
            "encoder_token_ids": batch["encoder"],
            "encoder_padding_mask": _mask(batch["encoder"], tokenizer.pad_id),
            "decoder_token_ids": decoder_inputs,
            "decoder_padding_mask": _decoder_mask(decoder_inputs, pad),
        }
        return inputs, targets, tf.cast(tf.not_equal(targets, pad), tf.float32)

    return _finish(_map(dataset, teacher_forcing), prefetch)


def _packed_batches_two_lengths(dataset, tokenizer, target_tokenizer, batch_size, source_length, target_length, drop_remainder):
    import keras_hub

    encoder_packer = keras_hub.layers.StartEndPacker(
        sequence_length=source_length, start_value=tokenizer.start_id, end_value=tokenizer.end_id,
        pad_value=tokenizer.pad_id, dtype="int32",
    )
    decoder_packer = keras_hub.layers.StartEndPacker(
        sequence_length=target_length + 1, start_value=target_tokenizer.start_id, end_value=target_tokenizer.end_id,
        pad_value=target_tokenizer.pad_id, dtype="int32",
    )

    def pack(batch):
        return {"encoder": encoder_packer(batch["encoder"]), "decoder": decoder_packer(batch["decoder"])}

    return _map(dataset.ragged_batch(batch_size, drop_remainder=drop_remainder), pack)


# ----------------------------------------------------------------------------- classification


def classification_dataset(
    examples, tokenizer, *, batch_size=32, sequence_length=None, bucket_lengths=None, shuffle=False, seed=None,
    shuffle_buffer_size=None, cache=False, prefetch=True, drop_remainder=False,
):
    """Text classification batches from `(text, label)` examples.

    Args:
        examples: list of `(text, label int)`, or a `tf.data.Dataset` of
            `(scalar string, scalar int)` (e.g. `jsonl_dataset(..., fields=("text", "label"))`).
        tokenizer: a `kzoo.data` tokenizer.
        The other arguments are those of `translation_dataset`.

    Returns:
        A dataset of `(inputs, labels)`: `token_ids`, `segment_ids` (all 0:
        one segment) and `padding_mask` `[B, S]` int32, `labels` `[B]` int32.

    Example:
    ```python
    task = kzoo.data.load_task("language_id")
    batches = kzoo.data.classification_dataset(task.train, tokenizer, sequence_length=32, shuffle=True, seed=0)
    ```
    """
    check_positive_int("batch_size", batch_size)
    sequence_length, buckets = _lengths(sequence_length, bucket_lengths)

    def tokenize(texts, labels):
        return {"tokens": tokenizer.tokenize(texts), "label": labels}

    dataset = _tokenized(_labelled_texts_source(examples), tokenize)
    dataset = _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size)
    sequences = {"tokens": (tokenizer.start_id, tokenizer.end_id, tokenizer.pad_id, 0)}
    dataset = _packed_batches(dataset, sequences, batch_size, sequence_length, buckets, drop_remainder)

    def inputs_and_labels(batch):
        return _encoder_inputs(batch["tokens"], tokenizer.pad_id), batch["label"]

    return _finish(_map(dataset, inputs_and_labels), prefetch)


# ----------------------------------------------------------------------------- tagging


def align_word_labels(tokenizer, words, tags):
    """Tokenizes pre-split words and gives each sub-token its word's tag.

    Words before the last are tokenized with a trailing space, so a byte
    tokenizer still sees the spaces and every word's first sub-token is its
    first character (WordPiece drops the space, SentencePiece's normalizer
    trims it); the first sub-token of a word carries the word's tag with
    weight 1, the others repeat the tag with weight 0 (ignored by the loss and
    the metric). A word that yields no token loses its tag.

    Args:
        tokenizer: a `kzoo.data` tokenizer.
        words: `tf.RaggedTensor` `[B, W]` of strings.
        tags: `tf.RaggedTensor` `[B, W]` of int32 tag ids.

    Returns:
        `(token_ids, labels, weights)`, each a `tf.RaggedTensor` `[B, T]`
        (int32, int32, int32).

    Example:
    ```python
    ids, labels, weights = align_word_labels(
        tokenizer, tf.ragged.constant([["Anna", "lives", "in", "Zürich"]]), tf.ragged.constant([[1, 0, 0, 3]]))
    ```
    """
    tf = _tf()
    lengths = words.row_lengths()
    is_last = tf.equal(tf.ragged.range(lengths).flat_values, tf.repeat(lengths - 1, lengths))
    spaced = tf.strings.join([words.flat_values, tf.where(is_last, "", " ")])
    pieces = tokenizer.tokenize(spaced)  # [N words, pieces]
    piece_counts = tf.cast(pieces.row_lengths(), tf.int32)
    labels = tf.repeat(tags.flat_values, piece_counts)
    weights = tf.cast(tf.equal(tf.ragged.range(piece_counts).flat_values, 0), tf.int32)
    sentence_lengths = tf.reduce_sum(tf.RaggedTensor.from_row_splits(piece_counts, words.row_splits), axis=1)
    ids = tf.RaggedTensor.from_row_lengths(pieces.flat_values, tf.cast(sentence_lengths, tf.int64))
    return (
        ids,
        tf.RaggedTensor.from_row_lengths(labels, tf.cast(sentence_lengths, tf.int64)),
        tf.RaggedTensor.from_row_lengths(weights, tf.cast(sentence_lengths, tf.int64)),
    )


def tagging_dataset(
    examples, tokenizer, *, label_names=None, batch_size=32, sequence_length=None, bucket_lengths=None, shuffle=False,
    seed=None, shuffle_buffer_size=None, cache=False, prefetch=True, drop_remainder=False,
):
    """Token classification batches with word tags aligned to sub-word tokens.

    See `align_word_labels` for the alignment: only the first sub-token of a
    word is scored. The start and end tokens and padding have weight 0.

    Args:
        examples: list of `(tokens, tags)` (tags as ids, or as names with
            `label_names`), or a `tf.data.Dataset` of `([W] string, [W] int or string)`
            (e.g. `conll_dataset`).
        tokenizer: a `kzoo.data` tokenizer.
        label_names: list of str or None. Needed when tags are names.
        The other arguments are those of `translation_dataset`.

    Returns:
        A dataset of `(inputs, labels, sample_weights)`: `token_ids`,
        `segment_ids` (all 0) and `padding_mask` `[B, S]` int32, `labels` `[B, S]` int32,
        `sample_weights` `[B, S]` float32 (1 on each word's first sub-token).

    Example:
    ```python
    task = kzoo.data.load_task("faker_ner")
    batches = kzoo.data.tagging_dataset(task.train, tokenizer, sequence_length=64)
    ```
    """
    tf = _tf()
    check_positive_int("batch_size", batch_size)
    sequence_length, buckets = _lengths(sequence_length, bucket_lengths)

    def tokenize(words, tags):
        ids, labels, weights = align_word_labels(tokenizer, words, tags)
        return {"tokens": ids, "labels": labels, "weights": weights}

    dataset = _tokenized(_tagged_source(examples, label_names), tokenize, ragged_input=True)
    dataset = _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size)
    sequences = {
        "tokens": (tokenizer.start_id, tokenizer.end_id, tokenizer.pad_id, 0),
        "labels": (0, 0, 0, 0),
        "weights": (0, 0, 0, 0),
    }
    dataset = _packed_batches(dataset, sequences, batch_size, sequence_length, buckets, drop_remainder)

    def inputs_and_labels(batch):
        return _encoder_inputs(batch["tokens"], tokenizer.pad_id), batch["labels"], tf.cast(batch["weights"], tf.float32)

    return _finish(_map(dataset, inputs_and_labels), prefetch)


# ----------------------------------------------------------------------------- language modelling


def language_modeling_dataset(
    texts, tokenizer, *, batch_size=32, sequence_length=None, bucket_lengths=None, pack_documents=True, shuffle=False,
    seed=None, shuffle_buffer_size=None, cache=False, prefetch=True, drop_remainder=False,
):
    """Causal LM batches: inputs are tokens, targets the next tokens.

    With `pack_documents=True` (default) every text becomes
    `[start] + tokens + [end]`, the texts are concatenated into one stream and
    cut into windows of `sequence_length + 1` tokens (the last partial window
    is dropped): no padding at all. With `pack_documents=False` each text is
    one row, truncated and padded (bucketing allowed).

    Args:
        texts: list of str, or a `tf.data.Dataset` of scalar strings
            (e.g. `text_dataset`).
        tokenizer: a `kzoo.data` tokenizer.
        pack_documents: bool. Concatenate texts into full windows. Defaults to True.
        The other arguments are those of `translation_dataset`
        (`bucket_lengths` needs `pack_documents=False`).

    Returns:
        A dataset of `(inputs, targets, sample_weights)`: `token_ids` and
        `padding_mask` `[B, T]` int32, `targets` `[B, T]` int32 (`token_ids`
        shifted left by one), `sample_weights` `[B, T]` float32.

    Example:
    ```python
    task = kzoo.data.load_task("pydoc_topics")
    batches = kzoo.data.language_modeling_dataset(task.train, tokenizer, sequence_length=128, batch_size=16)
    ```
    """
    tf = _tf()
    check_positive_int("batch_size", batch_size)
    sequence_length, buckets = _lengths(sequence_length, bucket_lengths, minimum=2)
    pad = tokenizer.pad_id

    def shift(batch):
        full = batch["tokens"]
        inputs, targets = full[:, :-1], full[:, 1:]
        return (
            {"token_ids": inputs, "padding_mask": _mask(inputs, pad)},
            targets,
            tf.cast(tf.not_equal(targets, pad), tf.float32),
        )

    if not pack_documents:
        dataset = _tokenized(_texts_source(texts), lambda batch: {"tokens": tokenizer.tokenize(batch)})
        dataset = _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size)
        sequences = {"tokens": (tokenizer.start_id, tokenizer.end_id, pad, 1)}
        dataset = _packed_batches(dataset, sequences, batch_size, sequence_length, buckets, drop_remainder)
        return _finish(_map(dataset, shift), prefetch)
    if buckets is not None:
        raise ValueError(
            "Received an invalid value for argument `bucket_lengths`, expected None when `pack_documents=True` "
            f"(packed windows are all full). Received: bucket_lengths={bucket_lengths!r}"
        )

    def token_stream(batch):
        ids = tokenizer.tokenize(batch)
        rows = ids.nrows()
        starts = tf.fill([rows, 1], tf.constant(tokenizer.start_id, tf.int32))
        ends = tf.fill([rows, 1], tf.constant(tokenizer.end_id, tf.int32))
        return tf.concat([starts, ids, ends], axis=1).flat_values

    stream = _map(_texts_source(texts).batch(TOKENIZE_CHUNK), token_stream)
    windows = _map(stream.rebatch(sequence_length + 1, drop_remainder=True), lambda window: {"tokens": window})
    windows = _cache_and_shuffle(windows, cache, shuffle, seed, shuffle_buffer_size)
    dataset = windows.batch(batch_size, drop_remainder=drop_remainder)
    return _finish(_map(dataset, shift), prefetch)


MASKED_LM_FORMATS = ("dense", "positions")


def masked_lm_dataset(
    texts, tokenizer, *, batch_size=32, sequence_length=None, bucket_lengths=None, mask_rate=0.15,
    mask_token_rate=0.8, random_token_rate=0.1, mask_selection_length=None, targets="dense", shuffle=False,
    seed=None, shuffle_buffer_size=None, cache=False, prefetch=True, drop_remainder=False,
):
    """Masked LM batches (BERT): 15% of tokens selected, 80% masked / 10% random / 10% kept.

    Each text is packed as `[start] + tokens + [end]`; keras-hub's
    `MaskedLMMaskGenerator` then selects `mask_rate` of the real tokens
    (never pad, start or end) and replaces `mask_token_rate` of them with the
    mask id, `random_token_rate` with a random id, and keeps the rest. The
    masking is redrawn every epoch and is not seeded.

    Args:
        texts: list of str, or a `tf.data.Dataset` of scalar strings.
        tokenizer: a `kzoo.data` tokenizer.
        mask_rate: float. Share of tokens selected. Defaults to 0.15.
        mask_token_rate: float. Share of selected tokens set to the mask id. Defaults to 0.8.
        random_token_rate: float. Share set to a random id. Defaults to 0.1.
        mask_selection_length: int or None. Most selections per row (the
            length `P` of `mask_positions`). Defaults to
            `ceil(sequence_length * mask_rate * 1.5)`.
        targets: str. `"dense"` (default, for `kzoo.models.MaskedLM`, which
            predicts every position): targets are the original ids `[B, S]`
            and the sample weights are 1 exactly at the selected positions.
            `"positions"` (keras-hub's `BertMaskedLM` style): inputs also get
            `mask_positions` `[B, P]`, targets are the original ids there
            `[B, P]`, weights 0 for unused slots.
        The other arguments are those of `translation_dataset`.

    Returns:
        A dataset of `(inputs, targets, sample_weights)` with inputs
        `token_ids` (masked), `segment_ids` (all 0) and `padding_mask` `[B, S]`
        int32 (plus `mask_positions` for `targets="positions"`), int32
        targets and float32 weights as described under `targets`.

    Example:
    ```python
    batches = kzoo.data.masked_lm_dataset(task.train, tokenizer, sequence_length=128)
    ```

    References:
        - [Devlin et al., 2019](https://arxiv.org/abs/1810.04805)
    """
    tf = _tf()
    import keras_hub

    check_positive_int("batch_size", batch_size)
    sequence_length, buckets = _lengths(sequence_length, bucket_lengths)
    if not 0 < mask_rate <= 1:
        raise ValueError(f"Received an invalid value for argument `mask_rate`, expected a value in (0, 1]. Received: mask_rate={mask_rate!r}")
    if targets not in MASKED_LM_FORMATS:
        raise ValueError(
            f"Received an invalid value for argument `targets`, expected 'dense' or 'positions'. Received: targets={targets!r}"
        )
    if mask_selection_length is None:
        mask_selection_length = max(1, math.ceil(sequence_length * mask_rate * 1.5))
    masker = keras_hub.layers.MaskedLMMaskGenerator(
        vocabulary_size=tokenizer.vocabulary_size,
        mask_selection_rate=mask_rate,
        mask_token_id=tokenizer.mask_id,
        mask_selection_length=mask_selection_length,
        unselectable_token_ids=[tokenizer.pad_id, tokenizer.start_id, tokenizer.end_id],
        mask_token_rate=mask_token_rate,
        random_token_rate=random_token_rate,
    )
    dataset = _tokenized(_texts_source(texts), lambda batch: {"tokens": tokenizer.tokenize(batch)})
    dataset = _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size)
    sequences = {"tokens": (tokenizer.start_id, tokenizer.end_id, tokenizer.pad_id, 0)}
    dataset = _packed_batches(dataset, sequences, batch_size, sequence_length, buckets, drop_remainder)

    def mask(batch):
        token_ids = batch["tokens"]
        masked = masker(token_ids)
        inputs = _encoder_inputs(token_ids, tokenizer.pad_id)
        inputs["token_ids"] = tf.cast(masked["token_ids"], tf.int32)
        positions = tf.cast(masked["mask_positions"], tf.int32)
        weights = tf.cast(masked["mask_weights"], tf.float32)
        if targets == "positions":
            inputs["mask_positions"] = positions
            return inputs, tf.cast(masked["mask_ids"], tf.int32), weights
        # [B, P] positions and weights -> [B, S] weights (unused slots have weight 0).
        dense_weights = tf.reduce_sum(tf.one_hot(positions, tf.shape(token_ids)[1]) * weights[..., None], axis=1)
        return inputs, token_ids, dense_weights

    return _finish(_map(dataset, mask), prefetch)


# ----------------------------------------------------------------------------- images


def image_classification_dataset(
    examples, *, batch_size=32, shuffle=False, seed=None, shuffle_buffer_size=None, cache=False, prefetch=True,
    drop_remainder=False,
):
    """Image classification batches from `(image, label)` examples.

    Args:
        examples: list of `(float32 array [H, W, C], label int)` (e.g. the
            `digits` task), or a `tf.data.Dataset` of the same (e.g.
            `image_folder_dataset`).
        The other arguments are those of `translation_dataset`.

    Returns:
        A dataset of `({"images": [B, H, W, C] float32}, labels [B] int32)`.

    Example:
    ```python
    task = kzoo.data.load_task("digits")
    batches = kzoo.data.image_classification_dataset(task.train, batch_size=64, shuffle=True, seed=0)
    ```
    """
    tf = _tf()
    check_positive_int("batch_size", batch_size)
    if _is_dataset(examples):
        dataset = examples
    else:
        examples = list(examples)
        images = np.stack([np.asarray(image, dtype=np.float32) for image, _ in examples])
        labels = np.asarray([int(label) for _, label in examples], dtype=np.int32)
        dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = _map(dataset, lambda image, label: {"images": tf.cast(image, tf.float32), "label": tf.cast(label, tf.int32)})
    dataset = _cache_and_shuffle(dataset, cache, shuffle, seed, shuffle_buffer_size)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    dataset = _map(dataset, lambda batch: ({"images": batch["images"]}, batch["label"]))
    return _finish(dataset, prefetch)


# ----------------------------------------------------------------------------- by task


def task_dataset(task, split="train", tokenizer=None, *, batch_size=32, sequence_length=None, shuffle=None, **options):
    """The pipeline that fits a bundled task's kind, for one split.

    Args:
        task: `TaskData` or a task name.
        split: str. `"train"`, `"validation"` or `"test"`. Defaults to `"train"`.
        tokenizer: a `kzoo.data` tokenizer; not used for images.
        batch_size: int. Defaults to 32.
        sequence_length: int or None. Defaults to `DEFAULT_SEQUENCE_LENGTHS[kind]`
            (unless `bucket_lengths` is in `options`).
        shuffle: bool or None. Defaults to True for `"train"`, seeded with the task seed.
        **options: passed to the kind's pipeline (e.g. `bucket_lengths`, `cache`).

    Example:
    ```python
    train = kzoo.data.task_dataset("language_id", "train", tokenizer, batch_size=64)
    ```
    """
    from kzoo.data.registry import load_task

    if isinstance(task, str):
        task = load_task(task)
    examples = task.split(split)
    if shuffle is None:
        shuffle = split == "train"
    options.setdefault("seed", task.seed)
    if task.kind == "image_classification":
        return image_classification_dataset(examples, batch_size=batch_size, shuffle=shuffle, **options)
    if tokenizer is None:
        raise ValueError(
            f"Received an invalid value for argument `tokenizer`, expected a kzoo.data tokenizer for the "
            f"{task.kind} task {task.name!r}. Received: tokenizer=None"
        )
    if sequence_length is None and options.get("bucket_lengths") is None:
        sequence_length = DEFAULT_SEQUENCE_LENGTHS[task.kind]
    common = dict(batch_size=batch_size, sequence_length=sequence_length, shuffle=shuffle, **options)
    if task.kind == "translation":
        # Checkpoints with two vocabularies (Marian) give the target side its own tokenizer.
        common.setdefault("target_tokenizer", tokenizer.for_targets())
        return translation_dataset(examples, tokenizer, **common)
    if task.kind == "classification":
        return classification_dataset(examples, tokenizer, **common)
    if task.kind == "tagging":
        return tagging_dataset(examples, tokenizer, label_names=task.label_names, **common)
    if task.kind == "masked_lm":
        return masked_lm_dataset(examples, tokenizer, **common)
    return language_modeling_dataset(examples, tokenizer, **common)
