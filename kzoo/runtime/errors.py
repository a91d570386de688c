"""The runtime's typed errors, so a server can tell a client's mistake from a broken bundle.

- `BundleError`: the bundle cannot be loaded (missing or tampered file, bad
  manifest, no export for the asked backend). Its message names the file.
- `UnsupportedTaskError`: a method the bundle's task does not offer, e.g.
  `classify()` on a translator. Its message names the task and what it offers.
- `InputTooLongError`: an input longer than the bundle takes, raised instead of
  truncating when the caller passes `truncate=False`. Carries `index`, `length`
  and `limit` so an HTTP layer can answer with the limit's name.

(Three small exception classes in one file on purpose: they are one vocabulary.)

Example:
```python
try:
    model = load("saved_models/translator")
except BundleError as error:
    print(error)  # Bundle file encoder.onnx does not match its sha256 ...
```
"""


class BundleError(ValueError):
    """A bundle that cannot be loaded: a missing or changed file, a bad manifest, no such backend."""


class UnsupportedTaskError(ValueError):
    """A runtime method the bundle's task does not offer (e.g. `classify()` on a translator)."""


class InputTooLongError(ValueError):
    """An input with more tokens than the bundle takes, when truncation was not asked for.

    Attributes:
        index: int. Position of the input in the batch.
        length: int. Its length in tokens (special tokens included).
        limit: int. The most tokens the bundle takes.
        limit_name: str. The limit's name, e.g. `"max_sequence_length"`.
    """

    def __init__(self, index, length, limit, limit_name="max_sequence_length", note=""):
        self.index, self.length, self.limit, self.limit_name = index, length, limit, limit_name
        super().__init__(
            f"Input {index} has {length} tokens, more than the {limit} this bundle takes "
            f"({limit_name}{note}); shorten it (or pass truncate=True)."
        )
