"""A checkpoint's `tokenizers` tokenizer for training: `kzoo.runtime.HuggingFaceTokenizer` plus its `tf.data` op.

Fine-tuning an imported BERT or GPT-2 feeds the pipelines the checkpoint's own
ids: `tokenize` runs the same serialized `tokenizers` pipeline as the TF-free
runtime, inside `tf.numpy_function` (`kzoo.data.PythonTokenizer`).

Example:
```python
tokenizer = kzoo.data.HuggingFaceTokenizer.from_file("bert/tokenizer.json", {"pad": 0, "start": 101, "end": 102})
dataset = kzoo.data.classification_dataset(examples, tokenizer, batch_size=32)
```
"""

from kzoo.data.python_tokenizer import PythonTokenizer
from kzoo.runtime import hugging_face_tokenizer as tf_free


class HuggingFaceTokenizer(PythonTokenizer, tf_free.HuggingFaceTokenizer):
    """`kzoo.runtime.HuggingFaceTokenizer` with a `tf.data` op (see there for the arguments).

    Example:
    ```python
    ragged = tokenizer.tokenize(tf.constant(["a sentence"]))
    ```
    """
