"""Argument checks for every kzoo module, in Keras core's phrasing (standard library only).

Each check names the argument, says what would be valid and echoes the value:
"Received an invalid value for argument `num_heads`, expected a positive integer.
Received: num_heads=0". It lives in the TF-free base so that the runtime, the
server, the layers, the data pipelines and the training code all raise the same
sentence from the same code. Integers may be Python or numpy integers; `bool` is
never a number here.

Example:
```python
check_positive_int("warmup_steps", 4000)   # returns 4000
check_positive_int("warmup_steps", 0)      # ValueError: ... Received: warmup_steps=0
check_choice("strategy", "beam", ("greedy", "beam"))
```
"""

import math
import numbers


def invalid_argument(name, expected, value):
    """The `ValueError` every check raises: `name`, what is `expected`, and the value received."""
    return ValueError(f"Received an invalid value for argument `{name}`, expected {expected}. Received: {name}={value!r}")


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_positive_int(name, value, allow_none=False):
    """`value` as an int when it is a positive integer (or None with `allow_none`)."""
    if value is None and allow_none:
        return None
    if not _is_integer(value) or value <= 0:
        raise invalid_argument(name, "a positive integer" + (" or None" if allow_none else ""), value)
    return int(value)


def check_non_negative_int(name, value):
    if not _is_integer(value) or value < 0:
        raise invalid_argument(name, "a non-negative integer", value)
    return int(value)


def check_positive_float(name, value):
    if not _is_number(value) or value <= 0:
        raise invalid_argument(name, "a positive number", value)
    return float(value)


def check_non_negative_float(name, value):
    if not _is_number(value) or value < 0:
        raise invalid_argument(name, "a non-negative number", value)
    return float(value)


def check_rate(name, value):
    """A rate such as dropout: a float in [0, 1)."""
    if not _is_number(value) or not 0.0 <= value < 1.0:
        raise invalid_argument(name, "a float in [0, 1)", value)
    return float(value)


def check_unit_interval(name, value, closed=False):
    """A number in [0, 1) (or [0, 1] with `closed=True`)."""
    if not _is_number(value) or value < 0 or value > 1.0 or (value == 1.0 and not closed):
        raise invalid_argument(name, f"a number in [0, 1{']' if closed else ')'}", value)
    return float(value)


def check_probability(name, value):
    """A probability mass such as top-p: a float in (0, 1]."""
    if not _is_number(value) or not 0.0 < value <= 1.0:
        raise invalid_argument(name, "a float in (0, 1]", value)
    return float(value)


def check_choice(name, value, choices, allow_none=False):
    """`value` when it is one of `choices` (strings), or None when `allow_none`."""
    if value is None and allow_none:
        return value
    if not isinstance(value, str) or value not in choices:
        raise invalid_argument(name, f"one of {', '.join(repr(c) for c in choices)}", value)
    return value


def check_divisible(name, value, divisor_name, divisor):
    """`value` when it is a multiple of `divisor` (e.g. hidden_dim of num_heads)."""
    if value % divisor:
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a multiple of {divisor_name}={divisor}. "
            f"Received: {name}={value}"
        )
    return value


def check_texts(name, texts):
    """`texts` as a list when it is a list or tuple of str (a lone str is refused)."""
    if isinstance(texts, (str, bytes)) or not isinstance(texts, (list, tuple)) or not all(isinstance(t, str) for t in texts):
        raise TypeError(
            f"Received an invalid value for argument `{name}`, expected a list of str. Received: {name}={texts!r:.80}"
        )
    return list(texts)
