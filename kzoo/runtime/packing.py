"""Packing token ids into model inputs: `[start] + ids + [end]`, truncated, right-padded.

The one place where every TF-free and TensorFlow caller (the runtime's text
methods, the export parity batch, evaluation) turns token lists into the arrays
a model takes, the way keras-hub's `StartEndPacker` does inside the `tf.data`
pipelines: ids are truncated first so the end id always fits.

Example:
```python
token_ids, padding_mask = pack_batch([[7, 8, 9], [7]], start_id=2, end_id=3)
# token_ids [[2, 7, 8, 9, 3], [2, 7, 3, 0, 0]], padding_mask [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
```
"""

import numpy as np

from kzoo.runtime.validation import check_positive_int


def pack_batch(id_lists, *, start_id=None, end_id=None, pad_id=0, max_length=None, width=None):
    """Packs each id list as `[start] + ids + [end]` into int32 `(token_ids, padding_mask)` `[B, W]`.

    Args:
        id_lists: list of lists of int. Token ids of each text.
        start_id: int or None. Prepended when given.
        end_id: int or None. Appended when given.
        pad_id: int. Fills the rows after their last token. Defaults to 0.
        max_length: int or None. Longest packed row, special ids included:
            longer id lists lose their last ids. None: no limit.
        width: int or None. Columns of the output (at least the longest packed
            row). None: the longest packed row.

    Returns:
        `(token_ids, padding_mask)`, int32 arrays `[B, W]`; the mask is 1 on
        real tokens and 0 on padding.
    """
    head = [] if start_id is None else [int(start_id)]
    tail = [] if end_id is None else [int(end_id)]
    if max_length is not None:
        check_positive_int("max_length", max_length)
        room = max_length - len(head) - len(tail)
        if room < 0:
            raise ValueError(
                "Received an invalid value for argument `max_length`, expected room for the start and end ids. "
                f"Received: max_length={max_length}"
            )
    rows = [head + (list(ids) if max_length is None else list(ids)[:room]) + tail for ids in id_lists]
    longest = max((len(row) for row in rows), default=0)
    width = longest if width is None else width
    if width < longest:
        raise ValueError(f"Received an invalid value for argument `width`, expected at least {longest}. Received: width={width}")
    token_ids = np.full((len(rows), width), pad_id, "int32")
    padding_mask = np.zeros((len(rows), width), "int32")
    for index, row in enumerate(rows):
        token_ids[index, : len(row)] = row
        padding_mask[index, : len(row)] = 1
    return token_ids, padding_mask
