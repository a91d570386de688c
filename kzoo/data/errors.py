"""Errors raised by the `kzoo.data` loaders for malformed user files.

Pure Python. `MalformedDataError` is a `ValueError`, so code that already
catches bad values keeps working; `DataEncodingError` is its subclass for
bytes that do not decode. (Two classes in one file: an error hierarchy reads
best in one place.)

Example:
```python
try:
    list(kzoo.data.read_parallel_tsv("pairs.tsv"))
except kzoo.data.MalformedDataError as error:
    print(error.path, error.line_number)
```
"""


class MalformedDataError(ValueError):
    """A line (or file) of user data is not in the expected format.

    The message is one sentence naming the file, the line number and what was
    expected, e.g. `"pairs.tsv, line 3: expected at least 2 tab-separated
    fields (source, target). Received: 'hello'"`.

    Args:
        path: str. The file.
        line_number: int or None. 1-based line number; `None` when the problem
            is the whole file (e.g. an image that does not decode).
        expected: str. What a valid line looks like.
        received: str or None. The offending text, shortened to 80 characters.

    Example:
    ```python
    raise MalformedDataError("pairs.tsv", 3, "at least 2 tab-separated fields", "hello")
    ```
    """

    def __init__(self, path, line_number, expected, received=None):
        self.path = str(path)
        self.line_number = line_number
        self.expected = expected
        self.received = received
        where = self.path if line_number is None else f"{self.path}, line {line_number}"
        message = f"{where}: expected {expected}."
        if received is not None:
            shown = received if len(received) <= 80 else received[:77] + "..."
            message += f" Received: {shown!r}"
        super().__init__(message)


class DataEncodingError(MalformedDataError):
    """Bytes of a user file do not decode with the expected text encoding.

    The message names the byte offset from the start of the file (the
    decoder's `UnicodeDecodeError.start` plus the offset of the line).

    Args:
        path: str. The file.
        line_number: int. 1-based line number.
        byte_offset: int. 0-based offset of the first bad byte in the file.
        encoding: str. The encoding that failed, e.g. `"utf-8"`.
        reason: str. The decoder's reason, e.g. `"invalid start byte"`.

    Example:
    ```python
    raise DataEncodingError("pairs.tsv", 2, 17, "utf-8", "invalid start byte")
    ```
    """

    def __init__(self, path, line_number, byte_offset, encoding, reason):
        self.byte_offset = byte_offset
        self.encoding = encoding
        super().__init__(
            path,
            line_number,
            f"{encoding} text, but the byte at offset {byte_offset} does not decode ({reason})",
        )
