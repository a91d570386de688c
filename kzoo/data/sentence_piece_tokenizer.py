"""SentencePiece tokenizer with kzoo's fixed special tokens, identical with and without TensorFlow.

The `sentencepiece` package does the work, for training, tokenizing and
decoding. keras-hub's `SentencePieceTokenizer` (tensorflow-text's
`SentencepieceTokenizer` op) is deliberately not used on the `tf.data` path,
for two measured reasons:

- tensorflow-text embeds an older SentencePiece build that breaks ties
  between equally scored segmentations differently: on 2,600 task samples one
  (a pydoc text table of `+-----+` runs) got its pieces in another order than
  the `sentencepiece` package gives, so the TF-free runtime would not
  reproduce the training ids;
- its model lives in a resource owned by the op's kernel, which
  `tf.random.set_seed` / `keras.utils.set_random_seed` delete by clearing the
  eager kernel cache ("SentencepieceResource does not exist",
  tensorflow/text#802), breaking any tokenizer built before seeding.

So `tokenize` runs the package through `tf.numpy_function` on whole chunks
of strings (the pipelines tokenize 256 at a time; `kzoo.data.PythonTokenizer`):
the same code as `kzoo.runtime.SentencePieceTokenizer`, hence the same ids. The
op cannot be saved inside a SavedModel graph; kzoo bundles ship the model file
for the runtime instead.
Training calls `sentencepiece.SentencePieceTrainer` directly rather than
`keras_hub.tokenizers.compute_sentence_piece_proto`, because that helper
cannot reserve an id for the mask token; the other ids are the ones it uses
(pad 0, unknown 1, start 2, end 3), with `<mask>` a control symbol at id 4.

Example:
```python
task = kzoo.data.load_task("numbers_en_de")
tokenizer = kzoo.data.SentencePieceTokenizer.train(task.texts(), vocabulary_size=1000)
ids = tokenizer.encode(["twenty-two"])[0]
tokenizer.decode(ids)  # 'twenty-two'
```
"""

import io

from kzoo.data.python_tokenizer import PythonTokenizer
from kzoo.runtime import sentence_piece_tokenizer as tf_free
from kzoo.runtime.sentence_piece_tokenizer import SPECIAL_TOKENS

MODEL_TYPES = ("unigram", "bpe", "char", "word")


def _sentences(texts):
    import tensorflow as tf

    if isinstance(texts, tf.data.Dataset):
        for text in texts.as_numpy_iterator():
            yield text.decode("utf-8")
    else:
        yield from texts


class SentencePieceTokenizer(PythonTokenizer, tf_free.SentencePieceTokenizer):
    """SentencePiece sub-words (Kudo & Richardson 2018) with fixed special ids 0-4, trainable, with a `tf.data` op.

    `kzoo.runtime.SentencePieceTokenizer` (the TF-free tokenizer a bundle runs)
    plus `train` and a `tokenize` op for the pipelines. Lossless up to the
    model's normalization (NFKC, collapsed whitespace), so `decode(encode(text))`
    gives the text back: the tokenizer to use for translation targets.

    Args:
        proto: bytes. A serialized SentencePiece model whose first five pieces
            are `<pad>`, `<unk>`, `<s>`, `</s>`, `<mask>` (what `train` makes).

    Example:
    ```python
    tokenizer = kzoo.data.SentencePieceTokenizer.train(["vingt-deux", "trente"] * 50, vocabulary_size=30)
    same = kzoo.data.SentencePieceTokenizer(tokenizer.proto)
    ```

    References:
        - [Kudo and Richardson, 2018](https://arxiv.org/abs/1808.06226)
    """

    @classmethod
    def train(cls, texts, vocabulary_size, *, model_type="unigram", lowercase=False, character_coverage=1.0, byte_fallback=False):
        """Trains a SentencePiece model on `texts`.

        Args:
            texts: list of str or a `tf.data.Dataset` of scalar strings.
            vocabulary_size: int. Target size, special tokens included; a
                small corpus may give fewer pieces (no error).
            model_type: str. `"unigram"` (default), `"bpe"`, `"char"` or `"word"`.
            lowercase: bool. Case fold in the model's normalizer (`nmt_nfkc_cf`).
            character_coverage: float. Share of characters covered by the
                vocabulary; the rarest are `<unk>`. Defaults to 1.0 (every
                character seen), right for alphabetic languages; SentencePiece's
                own default, 0.9995, made "ö" of "zwölf" unknown in
                `numbers_en_de` (1 in 140 test targets). Use 0.9995 for
                corpora with thousands of CJK characters.
            byte_fallback: bool. Encode unknown characters as UTF-8 byte pieces
                instead of `<unk>` (needs 256 extra pieces). Defaults to False.

        Example:
        ```python
        tokenizer = kzoo.data.SentencePieceTokenizer.train(corpus, vocabulary_size=4000, model_type="bpe")
        ```
        """
        import sentencepiece

        if model_type not in MODEL_TYPES:
            raise ValueError(
                f"Received an invalid value for argument `model_type`, expected one of {', '.join(MODEL_TYPES)}. "
                f"Received: model_type={model_type!r}"
            )
        if not isinstance(vocabulary_size, int) or vocabulary_size <= len(SPECIAL_TOKENS):
            raise ValueError(
                f"Received an invalid value for argument `vocabulary_size`, expected an integer above "
                f"{len(SPECIAL_TOKENS)}. Received: vocabulary_size={vocabulary_size!r}"
            )
        model = io.BytesIO()
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=_sentences(texts),
            model_writer=model,
            vocab_size=vocabulary_size,
            model_type=model_type,
            normalization_rule_name="nmt_nfkc_cf" if lowercase else "nmt_nfkc",
            character_coverage=character_coverage,
            byte_fallback=byte_fallback,
            pad_id=0,
            unk_id=1,
            bos_id=2,
            eos_id=3,
            control_symbols=[SPECIAL_TOKENS["mask"]],
            hard_vocab_limit=False,
            max_sentence_length=1 << 16,
            minloglevel=2,
        )
        return cls(model.getvalue())
