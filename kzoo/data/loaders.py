"""Loaders for users' own files: parallel TSV, JSONL, CoNLL-2003, plain text, image folders.

Each format has a pure-Python streaming reader (`read_*`, a generator that
holds one line at a time) and a `*_dataset` function that wraps the reader in
`tf.data.Dataset.from_generator`. TensorFlow is imported only inside the
`*_dataset` functions and the image decoder (`tf.io.decode_image`).

Errors are never silent:

- a malformed line raises `MalformedDataError` (a `ValueError`) naming the
  file, the line number and what was expected;
- bytes that do not decode raise `DataEncodingError` naming the byte offset in
  the file;
- a missing file raises `FileNotFoundError` with one sentence.

With `skip_malformed=True` bad lines are skipped instead, counted in a
`LoaderStats` (pass `stats=` to read it) and logged as a warning on the
`kzoo.data` logger once the files have been read.

Text is read as bytes and decoded line by line (so byte offsets are exact);
the encoding must therefore be ASCII-compatible (UTF-8, Latin-1, cp1252, ...),
and a UTF-8 byte-order mark at the start of a file is dropped.

`*_dataset(..., validate=True)` first streams through the files once in Python
(constant memory) so errors surface as `MalformedDataError` before training
starts, the skip counts are known at once, and the dataset knows its
cardinality. With `validate=False` the files are read once, lazily, and errors
surface from inside `tf.data` as a `tf.errors.InvalidArgumentError` carrying
the same message.

Example:
```python
import kzoo.data
stats = kzoo.data.LoaderStats()
pairs = kzoo.data.parallel_tsv_dataset("fra.txt", skip_malformed=True, stats=stats)
print(stats.summary())        # e.g. "232736 examples from 232740 lines; skipped 4 ..."
for source, target in pairs.take(2):
    print(source.numpy().decode(), "->", target.numpy().decode())
```
"""

import codecs
import json
import logging
import os
import re

from kzoo.data.errors import DataEncodingError, MalformedDataError
from kzoo.data.loader_stats import LoaderStats

logger = logging.getLogger("kzoo.data")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
_IMAGE_SIGNATURES = {".png": (b"\x89PNG\r\n\x1a\n",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",)}
_BIO_TAG = re.compile(r"^(O|[BIES]-\S+)$")
_DOCSTART = "-DOCSTART-"
_UTF8_NAMES = {"utf-8", "utf_8", "utf8", "u8", "utf-8-sig", "utf_8_sig"}


# ----------------------------------------------------------------------------- helpers


def _as_path_list(paths, argument="paths"):
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    paths = [os.fspath(path) for path in paths]
    if not paths:
        raise ValueError(f"Received an invalid value for argument `{argument}`, expected at least one file. Received: {argument}=[]")
    for path in paths:
        if not os.path.isfile(path):
            reason = "is a directory, not a file" if os.path.isdir(path) else "does not exist"
            raise FileNotFoundError(
                f"Received an invalid value for argument `{argument}`, the file {reason}. Received: {argument}={path!r}"
            )
    return paths


def _check_encoding(encoding):
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"Received an invalid value for argument `encoding`, expected a Python codec name. Received: encoding={encoding!r}"
        ) from None
    if info.name.startswith(("utf-16", "utf-32")):
        raise ValueError(
            "Received an invalid value for argument `encoding`, expected an ASCII-compatible encoding "
            f"(convert UTF-16/32 files to UTF-8 first). Received: encoding={encoding!r}"
        )


def _decoded_lines(path, encoding, stats, skip_malformed):
    """Yields `(line_number, text)` of one file, without line endings."""
    stats.files.append(path)
    offset = 0
    with open(path, "rb") as file:
        for line_number, raw in enumerate(file, start=1):
            start = offset
            offset += len(raw)
            stats.lines += 1
            if line_number == 1 and encoding.lower() in _UTF8_NAMES and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
                start += len(codecs.BOM_UTF8)
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as error:
                if skip_malformed:
                    stats.skip(path, line_number)
                    continue
                raise DataEncodingError(path, line_number, start + error.start, encoding, error.reason) from None
            yield line_number, text.rstrip("\r\n")


def _malformed(stats, skip_malformed, path, line_number, expected, received):
    """Raises, or counts the line as skipped when `skip_malformed`."""
    if not skip_malformed:
        raise MalformedDataError(path, line_number, expected, received)
    stats.skip(path, line_number)


def _finish(stats, what):
    if stats.skipped:
        logger.warning("kzoo.data %s: %s", what, stats.summary())


def _check_columns(columns):
    if len(columns) != 2 or not all(isinstance(c, int) and c >= 0 for c in columns):
        raise ValueError(
            "Received an invalid value for argument `columns`, expected two non-negative integers "
            f"(source column, target column). Received: columns={columns!r}"
        )


# ----------------------------------------------------------------------------- parallel TSV


def _iter_parallel_tsv(paths, columns, skip_header, skip_malformed, stats, encoding):
    source_column, target_column = columns
    needed = max(columns) + 1
    expected = f"at least {needed} tab-separated fields (source in field {source_column + 1}, target in field {target_column + 1})"
    for path in paths:
        for line_number, text in _decoded_lines(path, encoding, stats, skip_malformed):
            if skip_header and line_number == 1:
                continue
            if not text.strip():
                stats.blank_lines += 1
                continue
            fields = text.split("\t")
            if len(fields) < needed:
                _malformed(stats, skip_malformed, path, line_number, expected, text)
                continue
            source, target = fields[source_column].strip(), fields[target_column].strip()
            if not source or not target:
                empty = "source" if not source else "target"
                _malformed(stats, skip_malformed, path, line_number, f"a non-empty {empty} field", text)
                continue
            stats.examples += 1
            yield line_number, (source, target)
    _finish(stats, "parallel TSV")


def read_parallel_tsv(paths, *, columns=(0, 1), skip_header=False, skip_malformed=False, stats=None, encoding="utf-8"):
    """Streams `(source, target)` pairs from Tatoeba/Anki-style TSV files.

    One pair per line: `source<TAB>target[<TAB>attribution ...]`. Extra fields
    are ignored; blank lines are counted in `stats.blank_lines`.

    Args:
        paths: str or list of str. The files, read in order.
        columns: (int, int). 0-based fields of the source and target; `(1, 0)`
            reverses a Tatoeba file. Defaults to `(0, 1)`.
        skip_header: bool. Skip the first line of every file. Defaults to False.
        skip_malformed: bool. Skip and count malformed lines instead of raising.
        stats: `LoaderStats` or None. Filled while reading.
        encoding: str. An ASCII-compatible encoding. Defaults to `"utf-8"`.

    Returns:
        A generator of `(source, target)` string pairs.

    Raises:
        MalformedDataError: a line with too few fields or an empty source/target.
        DataEncodingError: bytes that do not decode.
        FileNotFoundError: a missing file.

    Example:
    ```python
    for english, french in kzoo.data.read_parallel_tsv("fra.txt"):
        ...
    ```
    """
    paths = _as_path_list(paths)
    _check_columns(tuple(columns))
    _check_encoding(encoding)
    stats = stats if stats is not None else LoaderStats()
    rows = _iter_parallel_tsv(paths, tuple(columns), skip_header, skip_malformed, stats, encoding)
    return (pair for _, pair in rows)


def parallel_tsv_dataset(paths, *, columns=(0, 1), skip_header=False, skip_malformed=False, stats=None, encoding="utf-8", validate=True):
    """A `tf.data.Dataset` of `(source, target)` scalar strings from TSV files.

    Same arguments as `read_parallel_tsv`, plus `validate` (see the module
    docstring): with the default `True`, the files are checked once up front,
    `stats` is complete on return and the dataset has a known cardinality.

    Example:
    ```python
    pairs = kzoo.data.parallel_tsv_dataset("fra.txt", skip_malformed=True)
    translation = kzoo.data.translation_dataset(pairs, tokenizer, batch_size=64)
    ```
    """
    import tensorflow as tf

    paths = _as_path_list(paths)
    _check_columns(tuple(columns))
    _check_encoding(encoding)
    arguments = (paths, tuple(columns), skip_header, skip_malformed)
    count = _validate(_iter_parallel_tsv, arguments, stats, encoding) if validate else None
    spec = (tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.string))

    def generate():
        for _, pair in _iter_parallel_tsv(*arguments, LoaderStats() if validate else _stats(stats), encoding):
            yield pair

    return _with_cardinality(tf.data.Dataset.from_generator(generate, output_signature=spec), count)


def _stats(stats):
    return stats if stats is not None else LoaderStats()


def _validate(iterate, arguments, stats, encoding):
    stats = _stats(stats)
    for _ in iterate(*arguments, stats, encoding):
        pass
    return stats.examples


def _with_cardinality(dataset, count):
    if count is None:
        return dataset
    import tensorflow as tf

    return dataset.apply(tf.data.experimental.assert_cardinality(count))


# ----------------------------------------------------------------------------- JSONL


def _json_kind(value):
    """'string', 'int', 'float', 'bool', or a list of one of those; None otherwise."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (str, int, float)):
        return {str: "string", int: "int", float: "float"}[type(value)]
    if isinstance(value, list):
        kinds = {_json_kind(item) for item in value}
        if len(kinds) == 1 and not next(iter(kinds)).endswith("list"):
            return f"{kinds.pop()} list"
        if kinds == {"int", "float"}:
            return "float list"
        if not kinds:
            return "empty list"
    return None


def _kind_matches(kind, expected):
    if kind == expected:
        return True
    if expected == "float" and kind == "int":
        return True
    if expected.endswith(" list") and kind in ("empty list", "int list" if expected == "float list" else None):
        return True
    return False


def _iter_jsonl(paths, fields, kinds, skip_malformed, stats, encoding):
    fields = tuple(fields)
    for path in paths:
        for line_number, text in _decoded_lines(path, encoding, stats, skip_malformed):
            if not text.strip():
                stats.blank_lines += 1
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                _malformed(stats, skip_malformed, path, line_number, f"one JSON object per line ({error.msg} at column {error.colno})", text)
                continue
            if not isinstance(record, dict):
                _malformed(stats, skip_malformed, path, line_number, "one JSON object per line", text)
                continue
            missing = [field for field in fields if field not in record]
            if missing:
                _malformed(stats, skip_malformed, path, line_number, f"a JSON object with the field {missing[0]!r}", text)
                continue
            values = tuple(record[field] for field in fields)
            if kinds is not None:
                bad = [
                    (field, kind)
                    for field, kind, value in zip(fields, kinds, values)
                    if not _kind_matches(_json_kind(value), kind)
                ]
                if bad:
                    field, kind = bad[0]
                    _malformed(stats, skip_malformed, path, line_number, f"field {field!r} to be a {kind} like in the first record", text)
                    continue
            stats.examples += 1
            yield line_number, values
    _finish(stats, "JSONL")


def _check_fields(fields):
    if isinstance(fields, str) or not fields or not all(isinstance(f, str) for f in fields):
        raise ValueError(
            "Received an invalid value for argument `fields`, expected a non-empty list of field names. "
            f"Received: fields={fields!r}"
        )


def read_jsonl(paths, *, fields=("source", "target"), skip_malformed=False, stats=None, encoding="utf-8"):
    """Streams tuples of chosen fields from JSON-lines files (one object per line).

    Args:
        paths: str or list of str. The files, read in order.
        fields: list of str. The keys to read from every object, in the order
            of the yielded tuple, e.g. `("text", "label")`. Other keys are
            ignored. Defaults to `("source", "target")`.
        skip_malformed: bool. Skip and count malformed lines instead of raising.
        stats: `LoaderStats` or None. Filled while reading.
        encoding: str. An ASCII-compatible encoding. Defaults to `"utf-8"`.

    Returns:
        A generator of tuples, one value per field, as `json` decoded them.

    Raises:
        MalformedDataError: invalid JSON, a non-object, or a missing field.

    Example:
    ```python
    for text, label in kzoo.data.read_jsonl("reviews.jsonl", fields=("text", "label")):
        ...
    ```
    """
    paths = _as_path_list(paths)
    _check_fields(fields)
    _check_encoding(encoding)
    stats = _stats(stats)
    return (values for _, values in _iter_jsonl(paths, fields, None, skip_malformed, stats, encoding))


_TF_KINDS = {"string": "string", "int": "int64", "float": "float32", "bool": "bool"}


def jsonl_dataset(paths, *, fields=("source", "target"), field_kinds=None, skip_malformed=False, stats=None, encoding="utf-8", validate=True):
    """A `tf.data.Dataset` of tuples of chosen JSONL fields.

    Each field becomes a tensor: strings -> `tf.string`, integers -> `int64`,
    floats -> `float32`, booleans -> `bool`, and a list of one of those -> a
    1-D tensor. The kinds come from `field_kinds` or from the first valid
    record; a later record whose field has another kind is malformed.

    Args:
        field_kinds: list of str or None. Per field one of `"string"`,
            `"int"`, `"float"`, `"bool"`, or one of those followed by
            `" list"`. Defaults to the kinds of the first valid record.
        The other arguments are those of `read_jsonl`, plus `validate`.

    Example:
    ```python
    reviews = kzoo.data.jsonl_dataset("reviews.jsonl", fields=("text", "label"))
    ```
    """
    import tensorflow as tf

    paths = _as_path_list(paths)
    _check_fields(fields)
    _check_encoding(encoding)
    fields = tuple(fields)
    if field_kinds is None:
        field_kinds = _first_record_kinds(paths, fields, encoding)
    field_kinds = tuple(field_kinds)
    valid = set(_TF_KINDS) | {f"{kind} list" for kind in _TF_KINDS}
    if len(field_kinds) != len(fields) or not set(field_kinds) <= valid:
        raise ValueError(
            f"Received an invalid value for argument `field_kinds`, expected one of {sorted(valid)} per field "
            f"{fields}. Received: field_kinds={field_kinds!r}"
        )
    arguments = (paths, fields, field_kinds, skip_malformed)
    count = _validate(_iter_jsonl, arguments, stats, encoding) if validate else None
    spec = tuple(
        tf.TensorSpec([None] if kind.endswith(" list") else [], _TF_KINDS[kind.split()[0]])
        for kind in field_kinds
    )

    def generate():
        for _, values in _iter_jsonl(*arguments, LoaderStats() if validate else _stats(stats), encoding):
            yield values

    return _with_cardinality(tf.data.Dataset.from_generator(generate, output_signature=spec), count)


def _first_record_kinds(paths, fields, encoding):
    for values in read_jsonl(paths, fields=fields, skip_malformed=True, encoding=encoding):
        kinds = tuple(_json_kind(value) for value in values)
        for field, kind, value in zip(fields, kinds, values):
            if kind is None or kind == "empty list":
                raise ValueError(
                    f"Received an invalid value for argument `fields`, field {field!r} of the first record of {paths[0]!r} "
                    f"is not a string, number, boolean or flat list of one of those; pass `field_kinds`. Received: {value!r}"
                )
        return kinds
    raise ValueError(f"Received an invalid value for argument `paths`, no valid JSON object found. Received: paths={paths!r}")


# ----------------------------------------------------------------------------- CoNLL-2003


def _iter_conll(paths, token_column, tag_column, tag_index, skip_malformed, stats, encoding):
    for path in paths:
        tokens, tags = [], []
        broken = False  # the current sentence contains a skipped line
        column_count = None
        first_line = None

        def sentence():
            nonlocal tokens, tags, broken
            done = None
            if broken:
                stats.skipped_examples += 1
            elif tokens:
                stats.examples += 1
                done = (tuple(tokens), tuple(tags))
            tokens, tags, broken = [], [], False
            return done

        for line_number, text in _decoded_lines(path, encoding, stats, skip_malformed):
            fields = text.split()
            if not fields:
                stats.blank_lines += 1
                finished = sentence()
                if finished:
                    yield line_number, finished
                continue
            if fields[0] == _DOCSTART:
                finished = sentence()
                if finished:
                    yield line_number, finished
                continue
            if column_count is None:
                column_count, first_line = len(fields), line_number
                needed = max(token_column + 1, tag_column + 1 if tag_column >= 0 else -tag_column, 2)
                if column_count < needed:
                    _malformed(stats, skip_malformed, path, line_number, f"at least {needed} whitespace-separated columns (token, ..., tag)", text)
                    column_count = None
                    broken = True
                    continue
            if len(fields) != column_count:
                _malformed(
                    stats, skip_malformed, path, line_number,
                    f"{column_count} whitespace-separated columns like line {first_line}", text,
                )
                broken = True
                continue
            tag = fields[tag_column]
            if not _BIO_TAG.match(tag):
                _malformed(stats, skip_malformed, path, line_number, f"a BIO tag like O, B-PER or I-LOC in the tag column, not {tag!r}", text)
                broken = True
                continue
            if tag_index is not None:
                if tag not in tag_index:
                    _malformed(stats, skip_malformed, path, line_number, f"a tag from `label_names`, not {tag!r}", text)
                    broken = True
                    continue
                tag = tag_index[tag]
            tokens.append(fields[token_column])
            tags.append(tag)
        finished = sentence()
        if finished:
            yield None, finished
    _finish(stats, "CoNLL")


def _check_conll_columns(token_column, tag_column):
    if not isinstance(token_column, int) or token_column < 0:
        raise ValueError(f"Received an invalid value for argument `token_column`, expected a non-negative integer. Received: token_column={token_column!r}")
    if not isinstance(tag_column, int) or tag_column == token_column:
        raise ValueError(
            "Received an invalid value for argument `tag_column`, expected an integer other than `token_column` "
            f"(negative counts from the end). Received: tag_column={tag_column!r}"
        )


def read_conll(paths, *, token_column=0, tag_column=-1, skip_malformed=False, stats=None, encoding="utf-8"):
    """Streams `(tokens, tags)` sentences from CoNLL-2003 style NER files.

    One token per line with whitespace-separated columns (CoNLL-2003: token,
    part of speech, chunk, NER tag); a blank line ends a sentence and
    `-DOCSTART-` lines separate documents. Every token line must have the same
    number of columns as the first one and a BIO/IOB/BIOES tag (`O`, `B-PER`,
    `I-LOC`, ...). With `skip_malformed=True` a sentence containing a
    malformed line is dropped whole (`stats.skipped_examples`), so tokens and
    tags never drift apart.

    Args:
        paths: str or list of str. The files, read in order.
        token_column: int. 0-based token column. Defaults to 0.
        tag_column: int. Tag column; negative counts from the end. Defaults to -1.
        skip_malformed: bool. Skip and count malformed lines instead of raising.
        stats: `LoaderStats` or None. Filled while reading.
        encoding: str. An ASCII-compatible encoding. Defaults to `"utf-8"`.

    Returns:
        A generator of `(tokens, tags)` pairs of string tuples.

    Example:
    ```python
    for tokens, tags in kzoo.data.read_conll("eng.train"):
        ...
    ```
    """
    paths = _as_path_list(paths)
    _check_conll_columns(token_column, tag_column)
    _check_encoding(encoding)
    stats = _stats(stats)
    return (sentence for _, sentence in _iter_conll(paths, token_column, tag_column, None, skip_malformed, stats, encoding))


def conll_dataset(paths, *, token_column=0, tag_column=-1, label_names=None, skip_malformed=False, stats=None, encoding="utf-8", validate=True):
    """A `tf.data.Dataset` of `(tokens, tags)`: a `[T]` string tensor and a `[T]` tag tensor.

    Args:
        label_names: list of str or None. When given, tags are mapped to
            their `int32` index in this list (a tag not in it is malformed);
            otherwise the tags are strings.
        The other arguments are those of `read_conll`, plus `validate`.

    Example:
    ```python
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    sentences = kzoo.data.conll_dataset("eng.train", label_names=names)
    ```
    """
    import tensorflow as tf

    paths = _as_path_list(paths)
    _check_conll_columns(token_column, tag_column)
    _check_encoding(encoding)
    index = None if label_names is None else {name: i for i, name in enumerate(label_names)}
    arguments = (paths, token_column, tag_column, index, skip_malformed)
    count = _validate(_iter_conll, arguments, stats, encoding) if validate else None
    tag_spec = tf.TensorSpec([None], tf.string if index is None else tf.int32)
    spec = (tf.TensorSpec([None], tf.string), tag_spec)

    def generate():
        for _, sentence in _iter_conll(*arguments, LoaderStats() if validate else _stats(stats), encoding):
            yield sentence

    return _with_cardinality(tf.data.Dataset.from_generator(generate, output_signature=spec), count)


# ----------------------------------------------------------------------------- plain text


def _iter_text(paths, unit, skip_malformed, stats, encoding):
    for path in paths:
        paragraph = []
        for line_number, text in _decoded_lines(path, encoding, stats, skip_malformed):
            if not text.strip():
                stats.blank_lines += 1
                if paragraph:
                    stats.examples += 1
                    yield line_number, "\n".join(paragraph)
                    paragraph = []
                continue
            if unit == "line":
                stats.examples += 1
                yield line_number, text
            else:
                paragraph.append(text)
        if paragraph:
            stats.examples += 1
            yield None, "\n".join(paragraph)
    _finish(stats, "text")


def _check_unit(unit):
    if unit not in ("line", "paragraph"):
        raise ValueError(f"Received an invalid value for argument `unit`, expected 'line' or 'paragraph'. Received: unit={unit!r}")


def read_text(paths, *, unit="line", skip_malformed=False, stats=None, encoding="utf-8"):
    """Streams examples from plain-text corpora: one per line, or one per paragraph.

    Blank lines are not examples (they are counted in `stats.blank_lines`);
    with `unit="paragraph"` they separate paragraphs, whose lines are joined
    with `"\\n"`. The only malformed input is text that does not decode.

    Args:
        paths: str or list of str. The files, read in order.
        unit: str. `"line"` or `"paragraph"`. Defaults to `"line"`.
        skip_malformed: bool. Skip and count undecodable lines instead of raising.
        stats: `LoaderStats` or None. Filled while reading.
        encoding: str. An ASCII-compatible encoding. Defaults to `"utf-8"`.

    Example:
    ```python
    for line in kzoo.data.read_text("corpus.txt"):
        ...
    ```
    """
    paths = _as_path_list(paths)
    _check_unit(unit)
    _check_encoding(encoding)
    stats = _stats(stats)
    return (text for _, text in _iter_text(paths, unit, skip_malformed, stats, encoding))


def text_dataset(paths, *, unit="line", skip_malformed=False, stats=None, encoding="utf-8", validate=True):
    """A `tf.data.Dataset` of scalar strings from plain-text corpora (see `read_text`).

    Example:
    ```python
    lm = kzoo.data.language_modeling_dataset(kzoo.data.text_dataset("corpus.txt"), tokenizer, batch_size=16)
    ```
    """
    import tensorflow as tf

    paths = _as_path_list(paths)
    _check_unit(unit)
    _check_encoding(encoding)
    arguments = (paths, unit, skip_malformed)
    count = _validate(_iter_text, arguments, stats, encoding) if validate else None

    def generate():
        for _, text in _iter_text(*arguments, LoaderStats() if validate else _stats(stats), encoding):
            yield text

    dataset = tf.data.Dataset.from_generator(generate, output_signature=tf.TensorSpec([], tf.string))
    return _with_cardinality(dataset, count)


# ----------------------------------------------------------------------------- image folders


def image_folder_class_names(directory):
    """The class names of an image folder: its sorted, non-hidden subfolders.

    Example:
    ```python
    kzoo.data.image_folder_class_names("flowers/")  # ['daisy', 'rose', 'tulip']
    ```
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Received an invalid value for argument `directory`, the folder does not exist. Received: directory={directory!r}"
        )
    names = sorted(
        name for name in os.listdir(directory)
        if not name.startswith(".") and os.path.isdir(os.path.join(directory, name))
    )
    if not names:
        raise ValueError(
            "Received an invalid value for argument `directory`, expected one subfolder per class "
            f"holding .png/.jpg/.jpeg files, found no subfolder. Received: directory={directory!r}"
        )
    return names


def _image_files(directory, class_names, skip_malformed, stats):
    """Yields `(path, label)` after checking extensions and file signatures."""
    for label, name in enumerate(class_names):
        class_directory = os.path.join(directory, name)
        if not os.path.isdir(class_directory):
            raise FileNotFoundError(
                f"Received an invalid value for argument `class_names`, the class folder does not exist. Received: {class_directory!r}"
            )
        for root, folders, files in os.walk(class_directory):
            folders[:] = sorted(folder for folder in folders if not folder.startswith("."))
            for file_name in sorted(files):
                if file_name.startswith("."):
                    continue
                path = os.path.join(root, file_name)
                stats.lines += 1
                extension = os.path.splitext(file_name)[1].lower()
                if extension not in IMAGE_EXTENSIONS:
                    _malformed(stats, skip_malformed, path, None, "a .png, .jpg or .jpeg image file", None)
                    continue
                with open(path, "rb") as file:
                    head = file.read(8)
                if not head.startswith(_IMAGE_SIGNATURES[extension]):
                    kind = "PNG" if extension == ".png" else "JPEG"
                    _malformed(stats, skip_malformed, path, None, f"a {kind} file, but its first bytes are not a {kind} signature", None)
                    continue
                yield path, label


def _decode_image(path, channels, image_size):
    import tensorflow as tf

    contents = tf.io.read_file(path)
    try:
        image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
    except tf.errors.InvalidArgumentError as error:
        raise MalformedDataError(path, None, f"a PNG or JPEG image that decodes ({error.message.splitlines()[0]})") from None
    image = tf.image.convert_image_dtype(image, tf.float32)
    if image_size is not None:
        image = tf.image.resize(image, image_size, antialias=True)
    return image.numpy()


def _check_image_arguments(channels, image_size):
    if channels not in (1, 3):
        raise ValueError(f"Received an invalid value for argument `channels`, expected 1 or 3. Received: channels={channels!r}")
    if image_size is not None and (len(image_size) != 2 or not all(isinstance(s, int) and s > 0 for s in image_size)):
        raise ValueError(
            f"Received an invalid value for argument `image_size`, expected (height, width) positive integers or None. Received: image_size={image_size!r}"
        )


def read_image_folder(directory, *, class_names=None, channels=3, image_size=None, skip_malformed=False, stats=None):
    """Streams `(image, label)` from a class-per-subfolder image folder.

    `directory/<class name>/**/*.png|jpg|jpeg`; labels index the sorted class
    names (or `class_names`). Images are decoded with TensorFlow
    (`tf.io.decode_image`) to float32 in [0, 1], shape `[H, W, channels]`,
    resized to `image_size` when given. Hidden files are ignored; any other
    file is malformed.

    Args:
        directory: str. The folder.
        class_names: list of str or None. Subfolders to read, in label order.
            Defaults to `image_folder_class_names(directory)`.
        channels: int. 1 (grayscale) or 3 (RGB). Defaults to 3.
        image_size: (int, int) or None. Resize to (height, width).
        skip_malformed: bool. Skip and count bad files instead of raising.
        stats: `LoaderStats` or None. Filled while reading (a file counts as a line).

    Example:
    ```python
    for image, label in kzoo.data.read_image_folder("flowers/", image_size=(32, 32)):
        ...
    ```
    """
    directory = os.fspath(directory)
    class_names = list(class_names) if class_names is not None else image_folder_class_names(directory)
    _check_image_arguments(channels, image_size)
    stats = _stats(stats)

    def generate():
        for path, label in _image_files(directory, class_names, skip_malformed, stats):
            try:
                image = _decode_image(path, channels, image_size)
            except MalformedDataError:
                if not skip_malformed:
                    raise
                stats.skip(path, None)
                continue
            stats.examples += 1
            yield image, label
        _finish(stats, "image folder")

    return generate()


def image_folder_dataset(directory, *, class_names=None, channels=3, image_size=None, skip_malformed=False, stats=None, validate=True):
    """A `tf.data.Dataset` of `(image, label)` from a class-per-subfolder image folder.

    `image` is float32 `[H, W, channels]` in [0, 1] and `label` an int32. The
    validation pass (`validate=True`) lists the files and checks their
    extensions and PNG/JPEG signatures; decoding happens while streaming.
    Without `image_size`, every image must already have the same size to be
    batched.

    Example:
    ```python
    images = kzoo.data.image_folder_dataset("flowers/", image_size=(32, 32))
    batches = kzoo.data.image_classification_dataset(images, batch_size=32)
    ```
    """
    import tensorflow as tf

    directory = os.fspath(directory)
    class_names = list(class_names) if class_names is not None else image_folder_class_names(directory)
    _check_image_arguments(channels, image_size)
    count = None
    if validate:
        check_stats = _stats(stats)
        count = sum(1 for _ in _image_files(directory, class_names, skip_malformed, check_stats))
        check_stats.examples = count
        _finish(check_stats, "image folder")
    height, width = image_size if image_size is not None else (None, None)
    spec = (tf.TensorSpec([height, width, channels], tf.float32), tf.TensorSpec([], tf.int32))

    def generate():
        return read_image_folder(
            directory, class_names=class_names, channels=channels, image_size=image_size,
            skip_malformed=skip_malformed, stats=LoaderStats() if validate else _stats(stats),
        )

    dataset = tf.data.Dataset.from_generator(generate, output_signature=spec)
    # A file that passes the signature check but fails to decode is skipped while
    # streaming, so the count is only a promise when nothing may be skipped.
    return _with_cardinality(dataset, count if not skip_malformed else None)
