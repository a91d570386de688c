"""`ImportedCheckpoint`: what `kzoo.import_checkpoint` gives back: the model, its tokenizer, and what the folder said."""

import dataclasses


@dataclasses.dataclass
class ImportedCheckpoint:
    """A kzoo model carrying a checkpoint's weights, with everything a run folder records about it.

    Attributes:
        model: the kzoo model (`TransformerSeq2Seq`, `TextClassifier`, `CausalLM`, ...).
        tokenizer: a `kzoo.data` tokenizer with the checkpoint's own ids, or None (ViT).
        family: str. The kzoo family name.
        task_kind: str or None. What the model does (translation, classification, ...).
        label_names: list of str or None. Class or tag names from the config's `id2label`.
        decoding: dict. `kzoo.generation.generate` options from generation_config.json
            (num_beams, length_normalization, early_stopping, suppressed tokens, ...).
        max_new_tokens: int or None. How many tokens a translation may take
            (generation_config's `max_length` less the decoder start token).
        preprocessing: dict or None. How images must be prepared (ViT): layout,
            rescale factor, mean and standard deviation.
        source: str. The folder it came from.
        architecture: str. The checkpoint's architecture (e.g. "MarianMTModel").
        unused_tensors: list of str. Tensors of the checkpoint kzoo did not use
            (a head it does not build, say); reported, not an error.
        initialized_layers: list of str. kzoo layers the checkpoint has no weights
            for, left as initialized (BERT's pooler in a masked-LM checkpoint).

    Example:
    ```python
    imported = kzoo.import_checkpoint("opus-mt-en-de")
    imported.model.generate(inputs, 32, **imported.decoding)
    ```
    """

    model: object
    tokenizer: object
    family: str
    task_kind: str = None
    label_names: list = None
    decoding: dict = dataclasses.field(default_factory=dict)
    max_new_tokens: int = None
    preprocessing: dict = None
    source: str = ""
    architecture: str = ""
    unused_tensors: list = dataclasses.field(default_factory=list)
    initialized_layers: list = dataclasses.field(default_factory=list)
