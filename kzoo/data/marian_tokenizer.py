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
    """

    def for_targets(self):
        """The target side, still a `kzoo.data` tokenizer (its `tokenize` uses the target model)."""
        if self.side == "target":
            return self
        return MarianTokenizer(self.source_proto, self.target_proto, self.vocabulary, self.target_vocabulary, side="target")
