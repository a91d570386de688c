"""WordPiece tokenizer: keras-hub's `WordPieceTokenizer` with kzoo's fixed special tokens.

Tokenizing is keras-hub's `WordPieceTokenizer` (tensorflow-text's
`FastWordpieceTokenizer` behind keras-hub's pre-tokenization). Training counts
words with keras-hub's own pre-tokenization (`pretokenize`, the function its
tokenizer and `compute_word_piece_vocabulary` use) and learns the vocabulary
with the `tokenizers` package's `WordPieceTrainer`. Why not
`keras_hub.tokenizers.compute_word_piece_vocabulary`: measured on the 40,000
strings of `numbers_en_de` (10,321 distinct words, many long German
compounds) on two CPU cores it took 505 s; the `tokenizers` trainer takes
about 1.5 s for a vocabulary of the same kind.

Example:
```python
task = kzoo.data.load_task("faker_ner")
tokenizer = kzoo.data.WordPieceTokenizer.train(task.texts(), vocabulary_size=2000)
tokenizer.encode(["Anna Weber moved to Lyon ."])
```
"""

import collections

from kzoo.data.tokenizer import SPECIAL_TOKEN_NAMES, Tokenizer
from kzoo.runtime import word_piece_tokenizer as tf_free
from kzoo.runtime.word_piece_tokenizer import SPECIAL_TOKENS, SUFFIX_INDICATOR


def _texts_dataset(texts):
    import tensorflow as tf

    if isinstance(texts, tf.data.Dataset):
        return texts
    texts = list(texts)
    if not texts:
        raise ValueError("Received an invalid value for argument `texts`, expected at least one string. Received: texts=[]")
    return tf.data.Dataset.from_tensor_slices(tf.constant(texts, dtype=tf.string))


class WordPieceTokenizer(Tokenizer, tf_free.WordPieceTokenizer):
    """WordPiece sub-words (Schuster & Nakajima 2012; BERT) with fixed special ids 0-4, trainable, with a `tf.data` op.

    `kzoo.runtime.WordPieceTokenizer` (the TF-free tokenizer a bundle runs: the
    matching rules, decoding and arguments are documented there) plus
    keras-hub's `WordPieceTokenizer` layer for `tokenize` / `encode`, and
    `train`. Use SentencePiece where exact detokenization matters (translation
    targets): `decode` puts one space between words.

    Example:
    ```python
    vocabulary = ["[PAD]", "[UNK]", "[START]", "[END]", "[MASK]", "un", "##able", "."]
    tokenizer = kzoo.data.WordPieceTokenizer(vocabulary)
    tokenizer.encode(["unable."])     # [[5, 6, 7]]
    tokenizer.decode([2, 5, 6, 7, 3]) # 'unable .'
    ```
    """

    def __init__(self, vocabulary, *, lowercase=False, strip_accents=False, split_on_cjk=True, suffix_indicator=SUFFIX_INDICATOR):
        super().__init__(vocabulary, lowercase=lowercase, strip_accents=strip_accents, split_on_cjk=split_on_cjk,
                         suffix_indicator=suffix_indicator)
        import keras_hub

        self._layer = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=self.vocabulary,
            lowercase=lowercase,
            strip_accents=strip_accents,
            split=True,
            split_on_cjk=split_on_cjk,
            suffix_indicator=suffix_indicator,
            oov_token=SPECIAL_TOKENS["unknown"],
            dtype="int32",
        )

    @classmethod
    def train(cls, texts, vocabulary_size, *, lowercase=False, strip_accents=False, split_on_cjk=True, min_frequency=0):
        """Learns a vocabulary of at most `vocabulary_size` tokens from `texts`.

        Args:
            texts: list of str or a `tf.data.Dataset` of scalar strings.
            vocabulary_size: int. Upper bound, special tokens included; a
                small corpus may give fewer tokens.
            lowercase, strip_accents, split_on_cjk: as in the constructor.
            min_frequency: int. Pieces seen fewer times are not added. Defaults to 0.

        Example:
        ```python
        tokenizer = kzoo.data.WordPieceTokenizer.train(["a small corpus"], vocabulary_size=100)
        ```
        """
        if not isinstance(vocabulary_size, int) or vocabulary_size <= len(SPECIAL_TOKENS):
            raise ValueError(
                f"Received an invalid value for argument `vocabulary_size`, expected an integer above "
                f"{len(SPECIAL_TOKENS)}. Received: vocabulary_size={vocabulary_size!r}"
            )
        import tensorflow as tf
        from keras_hub.src.tokenizers.word_piece_tokenizer import pretokenize
        from tokenizers import Tokenizer as HuggingFaceTokenizer
        from tokenizers import models, pre_tokenizers, trainers

        words = (
            _texts_dataset(texts)
            .batch(1024)
            .map(
                tf.autograph.experimental.do_not_convert(
                    lambda batch: pretokenize(batch, lowercase, strip_accents, True, split_on_cjk).flat_values
                ),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        )
        counts = collections.Counter()
        for chunk in words.as_numpy_iterator():
            counts.update(chunk.tolist())
        counts.pop(b"", None)

        # Words never contain "\n" (a delimiter), so splitting on it alone keeps
        # every word whole, whatever the trainer thinks is whitespace.
        def word_stream():
            for word, count in counts.items():
                yield "\n".join([word.decode("utf-8")] * count)

        learner = HuggingFaceTokenizer(models.WordPiece(unk_token=SPECIAL_TOKENS["unknown"]))
        learner.pre_tokenizer = pre_tokenizers.Split("\n", behavior="removed")
        trainer = trainers.WordPieceTrainer(
            vocab_size=vocabulary_size,
            min_frequency=min_frequency,
            special_tokens=[SPECIAL_TOKENS[name] for name in SPECIAL_TOKEN_NAMES],
            continuing_subword_prefix=SUFFIX_INDICATOR,
            show_progress=False,
        )
        learner.train_from_iterator(word_stream(), trainer=trainer)
        token_ids = learner.get_vocab()
        vocabulary = sorted(token_ids, key=token_ids.get)[:vocabulary_size]
        return cls(vocabulary, lowercase=lowercase, strip_accents=strip_accents, split_on_cjk=split_on_cjk)
