"""The one error a checkpoint import raises: a sentence naming the file, key or tensor and what would be valid."""


class CheckpointError(ValueError):
    """A checkpoint that kzoo cannot import: a missing file, an unsupported architecture or option, a bad tensor.

    Example: `raise CheckpointError("config.json has activation_function='mish'; kzoo imports relu, gelu, ...")`.
    """
