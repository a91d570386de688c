"""kzoo.runtime.validation: every check accepts what is valid and names the argument, the expectation and the value."""

import numpy as np
import pytest

from kzoo.runtime import validation


def test_positive_integers_accept_python_and_numpy_ints_and_nothing_else():
    assert validation.check_positive_int("num_heads", 8) == 8
    assert validation.check_positive_int("num_heads", np.int64(8)) == 8 and type(validation.check_positive_int("n", np.int32(2))) is int
    assert validation.check_positive_int("steps", None, allow_none=True) is None
    for bad in (0, -1, 2.0, True, "3", None):
        with pytest.raises(ValueError, match=rf"^Received an invalid value for argument `num_heads`, expected a positive integer\. Received: num_heads={bad!r}$"):
            validation.check_positive_int("num_heads", bad)
    with pytest.raises(ValueError, match=r"expected a positive integer or None\. Received: steps=0"):
        validation.check_positive_int("steps", 0, allow_none=True)


@pytest.mark.parametrize(
    "check, good, bad, expected",
    [
        (validation.check_non_negative_int, 0, -1, "a non-negative integer"),
        (validation.check_positive_float, 0.5, 0.0, "a positive number"),
        (validation.check_non_negative_float, 0.0, -0.1, "a non-negative number"),
        (validation.check_rate, 0.0, 1.0, r"a float in \[0, 1\)"),
        (validation.check_probability, 1.0, 0.0, r"a float in \(0, 1\]"),
    ],
)
def test_each_number_check_names_its_range(check, good, bad, expected):
    assert check("x", good) == good
    with pytest.raises(ValueError, match=rf"argument `x`, expected {expected}\. Received: x={bad!r}$"):
        check("x", bad)
    with pytest.raises(ValueError, match="Received: x=nan"):
        check("x", float("nan"))


def test_unit_interval_is_half_open_unless_closed():
    assert validation.check_unit_interval("smoothing", 0.999) == 0.999
    with pytest.raises(ValueError, match=r"expected a number in \[0, 1\)\. Received: smoothing=1\.0"):
        validation.check_unit_interval("smoothing", 1.0)
    assert validation.check_unit_interval("smoothing", 1.0, closed=True) == 1.0


def test_choices_divisibility_and_texts():
    assert validation.check_choice("strategy", "beam", ("greedy", "beam")) == "beam"
    with pytest.raises(ValueError, match=r"expected one of 'greedy', 'beam'\. Received: strategy='best'"):
        validation.check_choice("strategy", "best", ("greedy", "beam"))
    with pytest.raises(ValueError, match="expected a multiple of num_heads=3. Received: hidden_dim=16"):
        validation.check_divisible("hidden_dim", 16, "num_heads", 3)
    assert validation.check_texts("texts", ("a", "b")) == ["a", "b"]
    with pytest.raises(TypeError, match="expected a list of str. Received: texts='ab'"):
        validation.check_texts("texts", "ab")
