"""The checks every task route runs on a request before inference (V1 and V2 alike).

Example:
```python
check_texts("texts", ["forty-two"], DEFAULT_LIMITS)
options = decoding_options(request, model, DEFAULT_LIMITS, seq2seq=True)
```
"""

from kzoo.serve.client_error import ClientError


def check_batch_size(count, limits):
    """Raises `ClientError` 413 when a request carries more than `max_batch_size` items (texts or images)."""
    if count > limits["max_batch_size"]:
        raise ClientError(413, f"{count} items exceed max_batch_size={limits['max_batch_size']}; split the batch.",
                           "max_batch_size")


def check_texts(name, texts, limits):
    """Raises `ClientError` (413 or 422) when `texts` break a limit or hold an empty or invalid string."""
    check_batch_size(len(texts), limits)
    for index, text in enumerate(texts):
        if not text.strip():
            raise ClientError(422, f"{name}[{index}] is empty; send non-empty strings.")
        if len(text) > limits["max_text_chars"]:
            raise ClientError(413, f"{name}[{index}] has {len(text)} characters, more than max_text_chars="
                               f"{limits['max_text_chars']}.", "max_text_chars")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ClientError(422, f"{name}[{index}] is not valid Unicode (it holds a lone surrogate escape).") from None


def decoding_options(request, model, limits, seq2seq):
    """The decoding keyword arguments of `request` (a pydantic model), checked against `model` and `limits`.

    Raises `ClientError` 422 for an option the model refuses and 413 for a limit
    (`max_num_beams`, the bundle's own `max_new_tokens`).
    """
    options = {"max_new_tokens": None, **request.model_dump(exclude={"texts", "prompt", "timeout_ms", "stream"},
                                                                  exclude_none=True)}
    try:
        decoding = model.decoding_options(**{k: v for k, v in options.items() if k not in ("max_new_tokens", "target_language")})
    except ValueError as error:
        raise ClientError(422, str(error)) from None
    if decoding.strategy == "beam" and decoding.num_beams > limits["max_num_beams"]:
        raise ClientError(413, f"num_beams={decoding.num_beams} exceeds max_num_beams={limits['max_num_beams']}.",
                           "max_num_beams")
    most = model.max_length if seq2seq else model.max_length - 1
    if options["max_new_tokens"] is not None and options["max_new_tokens"] > most:
        raise ClientError(413, f"max_new_tokens={options['max_new_tokens']} exceeds this bundle's limit of {most}.",
                           "max_new_tokens")
    return options


def describe_problems(problems, shown=3):
    """One sentence's worth of pydantic validation problems: `where: what` for the first `shown`, then a count.

    Example: `describe_problems(error.errors())  # 'texts.0: is empty; ... (and 2 more)'`.
    """
    messages = []
    for problem in problems[:shown]:
        where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
        text = problem.get("msg", "invalid value").removeprefix("Value error, ")
        if problem.get("type") == "string_pattern_mismatch":  # Only the schemas' non-blank text has a pattern.
            text = "is empty; send text with at least one non-space character"
        messages.append(f"{where}: {text}" if where else text)
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return "; ".join(messages) + more
