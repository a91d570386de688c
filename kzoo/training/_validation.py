"""Argument checks shared by the kzoo.training modules (no TensorFlow import).

Each check raises a `ValueError` in the Keras core style: it names the
argument, says what would be valid and echoes the value.

Example:
```python
check_positive_int("warmup_steps", 4000)   # returns 4000
check_positive_int("warmup_steps", 0)      # ValueError: ... Received: warmup_steps=0
```
"""

import math


def _invalid(name, expected, value):
    return ValueError(
        f"Received an invalid value for argument `{name}`, expected {expected}. "
        f"Received: {name}={value!r}"
    )


def _is_number(value):
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
    )


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _invalid(name, "a positive integer", value)
    return value


def check_non_negative_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(name, "a non-negative integer", value)
    return value


def check_positive_float(name, value):
    if not _is_number(value) or value <= 0:
        raise _invalid(name, "a positive number", value)
    return float(value)


def check_non_negative_float(name, value):
    if not _is_number(value) or value < 0:
        raise _invalid(name, "a non-negative number", value)
    return float(value)


def check_unit_interval(name, value, closed=False):
    """A number in [0, 1) (or [0, 1] with `closed=True`)."""
    upper_ok = (lambda v: v <= 1.0) if closed else (lambda v: v < 1.0)
    if not _is_number(value) or value < 0 or not upper_ok(value):
        raise _invalid(name, f"a number in [0, 1{']' if closed else ')'}", value)
    return float(value)


def check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise _invalid(name, f"one of {', '.join(repr(c) for c in choices)}", value)
    return value
