"""TF-free inference over a kzoo bundle with ONNX Runtime or LiteRT.

Nothing here imports TensorFlow or Keras: a serving host needs only numpy, the
backend (`onnxruntime` or `ai-edge-litert`) and, for SentencePiece bundles,
`sentencepiece`. Backends are imported when a bundle is loaded.

Example:
```python
from export.runtime import load
translator = load("saved_models/translator", backend="onnx", threads=2)
translator.translate(["three hundred and forty-seven"])
```
"""

from export.runtime.bundle_model import BACKENDS, BundleModel
from export.runtime.errors import BundleError, InputTooLongError, UnsupportedTaskError


def load(bundle, backend="onnx", threads=None, optimization="all", variant=None, batch_size=32):
    """Loads a bundle folder for inference; returns a `BundleModel`.

    The manifest is read and every file it lists is checked against its sha256
    first: a missing or changed file raises `BundleError` naming the file.

    Args:
        bundle: str or path. The folder `kzoo export` wrote (with `manifest.json`).
        backend: str. `"onnx"` (ONNX Runtime) or `"tflite"` (LiteRT). Defaults to "onnx".
        threads: int or None. Intra-op threads (None: the backend's default).
        optimization: str. ONNX Runtime graph optimisation level: "disable",
            "basic", "extended" or "all". Defaults to "all".
        variant: str or None. Which export to run ("fp32" by default; ONNX also
            "dynamic_int8"; TFLite also "fp16", "dynamic_int8", "int8").
        batch_size: int. Rows per backend call. Defaults to 32.

    Example:
    ```python
    classifier = load("saved_models/language_id", backend="tflite", variant="dynamic_int8")
    classifier.classify(["dzień dobry"])
    ```
    """
    return BundleModel(bundle, backend=backend, variant=variant, threads=threads, optimization=optimization,
                       batch_size=batch_size)


__all__ = ["BACKENDS", "BundleError", "BundleModel", "InputTooLongError", "UnsupportedTaskError", "load"]
