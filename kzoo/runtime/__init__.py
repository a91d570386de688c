"""kzoo.runtime: the TF-free base. Bundles loaded and run with ONNX Runtime or LiteRT.

The lowest layer of kzoo: it imports the standard library, numpy and the
packages of the `serve` extra only (ONNX Runtime, LiteRT, sentencepiece), never
TensorFlow, Keras or anything of kzoo above it, so a serving host installs
`kzoo[serve]` and nothing else. The formats and numpy helpers here (bundle
manifest, tokenizer files and TF-free tokenizers, special ids, packing, decoding
and sampling, argument checks) are also what the TensorFlow side of kzoo uses,
so each rule exists once. Backends are imported when a bundle is loaded.

| module | what |
|---|---|
| `bundle_model` | `BundleModel`: translate / classify / tag / generate over a bundle |
| `manifest` | reading and checking `manifest.json`, file checksums |
| `backends`, `onnx_backend`, `tflite_backend` | ONNX Runtime and LiteRT behind one `run(part, feeds)` |
| `decoding` | greedy / beam / top-k / top-p over an exported `decode_step` |
| `tokenizer_format`, `tokenizers`, `*_tokenizer` | the saved-tokenizer format and TF-free tokenizers |
| `packing` | `[start] + ids + [end]`, truncation, right padding |
| `validation` | argument checks in Keras's phrasing |
| `errors` | `BundleError`, `UnsupportedTaskError`, `InputTooLongError` |

Example:
```python
from kzoo.runtime import load
translator = load("saved_models/translator", backend="onnx", threads=2)
translator.translate(["three hundred and forty-seven"])
```
"""

from kzoo.runtime.backends import BACKENDS
from kzoo.runtime.bundle_model import BundleModel
from kzoo.runtime.byte_tokenizer import ByteTokenizer
from kzoo.runtime.decoding import DecodingOptions
from kzoo.runtime.errors import BundleError, InputTooLongError, UnsupportedTaskError
from kzoo.runtime.sentence_piece_tokenizer import SentencePieceTokenizer
from kzoo.runtime.tokenizers import load_tokenizer
from kzoo.runtime.word_piece_tokenizer import WordPieceTokenizer


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
            "dynamic_int8", "int4"; TFLite also "fp16", "dynamic_int8", "int8").
        batch_size: int. Rows per backend call. Defaults to 32.

    Example:
    ```python
    classifier = load("saved_models/language_id", backend="tflite", variant="dynamic_int8")
    classifier.classify(["dzień dobry"])
    ```
    """
    return BundleModel(bundle, backend=backend, variant=variant, threads=threads, optimization=optimization,
                       batch_size=batch_size)


__all__ = [
    "BACKENDS",
    "BundleError",
    "BundleModel",
    "ByteTokenizer",
    "DecodingOptions",
    "InputTooLongError",
    "SentencePieceTokenizer",
    "UnsupportedTaskError",
    "WordPieceTokenizer",
    "load",
    "load_tokenizer",
]
