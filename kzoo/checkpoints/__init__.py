"""kzoo.checkpoints: pretrained checkpoint folders in, kzoo models out, without PyTorch and without downloads.

`import_checkpoint(path)` reads a Hugging Face folder (config.json, weights as
`model.safetensors` or `tf_model.h5`, the checkpoint's own tokenizer files) or a
keras-hub preset folder, and returns an `ImportedCheckpoint`: a kzoo model with
the checkpoint's weights, that trains with `model.fit` and exports with parity,
and a tokenizer with the checkpoint's own ids.

| architecture (config.json) | kzoo family | module |
|---|---|---|
| `MarianMTModel` (OPUS-MT) | `TransformerSeq2Seq` | `marian` |
| `BertModel`, `BertForSequenceClassification`, `BertForTokenClassification`, `BertForMaskedLM` | `EncoderBackbone`, `TextClassifier`, `TokenTagger`, `MaskedLM` | `bert` |
| `GPT2LMHeadModel`, `GPT2Model` | `CausalLM` | `gpt2` |
| `ViTForImageClassification` | `ViTClassifier` | `vit` |
| a keras-hub preset folder (`BertBackbone`, `GPT2Backbone`, `ViTBackbone`) | the kzoo backbone | `keras_hub` |

What a checkpoint needs becomes an option of the family (activation, embedding
scale, shared or separate embeddings, output bias, position encoding), never a
code path of its own. Anything kzoo cannot import fails with one sentence naming
the file, key or tensor (`CheckpointError`); tensors the checkpoint holds that
kzoo does not use are listed in `unused_tensors`.

Example:
```python
import kzoo
imported = kzoo.import_checkpoint("opus-mt-en-de")
imported.model, imported.tokenizer.encode(["Hello"])
```
"""

from kzoo.checkpoints.checkpoint_error import CheckpointError
from kzoo.checkpoints.checkpoint_folder import CheckpointFolder
from kzoo.checkpoints.imported_checkpoint import ImportedCheckpoint
from kzoo.checkpoints.bert import HEADS as BERT_ARCHITECTURES
from kzoo.checkpoints.bert import load_bert
from kzoo.checkpoints.gpt2 import ARCHITECTURES as GPT2_ARCHITECTURES
from kzoo.checkpoints.gpt2 import load_gpt2
from kzoo.checkpoints.marian import ARCHITECTURES as MARIAN_ARCHITECTURES
from kzoo.checkpoints.marian import MODEL_TYPES as MARIAN_MODEL_TYPES
from kzoo.checkpoints.marian import load_marian
from kzoo.checkpoints.vit import ARCHITECTURES as VIT_ARCHITECTURES
from kzoo.checkpoints.vit import load_vit

# config.json "architectures" (then "model_type") -> loader.
LOADERS = {
    **{name: load_marian for name in MARIAN_ARCHITECTURES + MARIAN_MODEL_TYPES},
    **{name: load_bert for name in BERT_ARCHITECTURES},
    **{name: load_gpt2 for name in GPT2_ARCHITECTURES},
    **{name: load_vit for name in VIT_ARCHITECTURES},
    "bert": load_bert,
    "gpt2": load_gpt2,
}


def import_checkpoint(path, dtype=None):
    """A kzoo model (and tokenizer) from a checkpoint folder; see the module docstring.

    Args:
        path: str or path. A local folder; nothing is downloaded.
        dtype: dtype policy of the kzoo model (None: float32).

    Returns:
        `ImportedCheckpoint`.

    Raises:
        CheckpointError: one sentence naming what cannot be imported and why.

    Example:
    ```python
    imported = import_checkpoint("opus-mt-en-de")
    ```
    """
    folder = CheckpointFolder(path)
    if "registered_name" in folder.config or str(folder.config.get("module", "")).startswith("keras_hub"):
        from kzoo.checkpoints.keras_hub import load_keras_hub  # keras-hub loads only for its own presets.

        try:
            return load_keras_hub(folder, dtype=dtype)
        except ValueError as error:
            raise CheckpointError(str(error)) from None
    architectures = list(folder.config.get("architectures") or []) + [folder.config.get("model_type")]
    for name in architectures:
        if name in LOADERS:
            return LOADERS[name](folder, dtype=dtype)
    supported = ", ".join(name for name in LOADERS if name[0].isupper())
    raise CheckpointError(
        f"{folder.path.name}/config.json has architectures={folder.config.get('architectures')!r} "
        f"(model_type={folder.config.get('model_type')!r}); kzoo imports {supported}."
    )


__all__ = ["CheckpointError", "CheckpointFolder", "ImportedCheckpoint", "import_checkpoint"]
