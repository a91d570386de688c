"""kzoo.runtime.errors: the input-too-long error carries what an HTTP layer needs to name the limit."""

from kzoo.runtime.errors import BundleError, InputTooLongError, UnsupportedTaskError


def test_input_too_long_names_the_input_its_length_and_the_limit():
    error = InputTooLongError(3, 40, 32, "max_length", " minus max_new_tokens=8")
    assert (error.index, error.length, error.limit, error.limit_name) == (3, 40, 32, "max_length")
    assert str(error) == ("Input 3 has 40 tokens, more than the 32 this bundle takes (max_length minus max_new_tokens=8); "
                          "shorten it (or pass truncate=True).")


def test_every_runtime_error_is_a_value_error():
    assert all(issubclass(cls, ValueError) for cls in (BundleError, UnsupportedTaskError, InputTooLongError))
