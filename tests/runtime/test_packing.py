"""kzoo.runtime.packing: start and end ids around every row, truncation that keeps the end id, right padding."""

import numpy as np
import pytest

from kzoo.runtime.packing import pack_batch


def test_rows_get_start_and_end_and_are_padded_to_the_longest():
    ids, mask = pack_batch([[7, 8, 9], [7]], start_id=2, end_id=3)
    np.testing.assert_array_equal(ids, [[2, 7, 8, 9, 3], [2, 7, 3, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    assert ids.dtype == np.int32 and mask.dtype == np.int32


def test_truncation_drops_the_last_ids_and_keeps_the_end_id():
    ids, _ = pack_batch([list(range(10, 20))], start_id=2, end_id=3, max_length=5)
    np.testing.assert_array_equal(ids, [[2, 10, 11, 12, 3]])


def test_a_fixed_width_pads_every_row_and_a_prompt_gets_no_end():
    ids, mask = pack_batch([[7, 8]], start_id=2, pad_id=0, width=6)
    np.testing.assert_array_equal(ids, [[2, 7, 8, 0, 0, 0]])
    assert mask.sum() == 3


def test_impossible_lengths_fail_with_one_sentence():
    with pytest.raises(ValueError, match="expected room for the start and end ids. Received: max_length=1"):
        pack_batch([[7]], start_id=2, end_id=3, max_length=1)
    with pytest.raises(ValueError, match="expected at least 4. Received: width=2"):
        pack_batch([[7, 8]], start_id=2, end_id=3, width=2)
