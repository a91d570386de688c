"""Marian / OPUS-MT's tokenizer for training: `kzoo.runtime.MarianTokenizer` plus its `tf.data` op.

Fine-tuning an imported Marian checkpoint feeds the pipelines the checkpoint's
own ids: `tokenize` runs the same SentencePiece models and vocabulary as the
TF-free runtime, inside `tf.numpy_function` (`kzoo.data.PythonTokenizer`), and
`for_targets()` gives the target side for `translation_dataset(target_tokenizer=...)`.

Example:
```python
tokenizer = kzoo.data.MarianTokenizer.from_files("source.spm", "target.spm", "vocab.json")
dataset = kzoo.data.translation_dataset(pairs, tokenizer, target_tokenizer=tokenizer.for_targets())
```
"""

from kzoo.data.python_tokenizer import PythonTokenizer
from kzoo.runtime import marian_tokenizer as tf_free


class MarianTokenizer(PythonTokenizer, tf_free.MarianTokenizer):
    """`kzoo.runtime.MarianTokenizer` with a `tf.data` op (see there for the arguments and rules).

    Example:
    ```python
    ragged = tokenizer.tokenize(tf.constant([">>de<< forty-two"]))
    ```

    `for_targets()` (inherited) keeps the class: the target side tokenizes in `tf.data` too.
    """
