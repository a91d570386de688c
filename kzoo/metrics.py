"""Task metrics as thin wrappers, plus a Keras callback that logs them each epoch.

The libraries do the work: BLEU and chrF are sacrebleu's `corpus_bleu` and
`corpus_chrf` (0-100), entity F1 is seqeval's `f1_score` (0-1, CoNLL
scoring of BIO spans), ROUGE is rouge-score's `RougeScorer` (mean F-measure,
0-1; its tokenizer keeps only ASCII letters and digits, so use it for English),
accuracy is scikit-learn's `accuracy_score` (0-1), and perplexity is
`exp` of the mean cross-entropy in nats. Each library is imported when its
metric is first computed.

Every metric function takes `(predictions, references)` in that order, and
`compute_metric(name, predictions, references)` reaches them by the names that
`kzoo.data` tasks use as their default metric.

Example:
```python
from kzoo import metrics
metrics.bleu(["dreihundertsiebenundvierzig"], ["dreihundertsiebenundvierzig"])   # 100.0
metrics.compute_metric("entity_f1", [["B-PER", "O"]], [["B-PER", "O"]])           # 1.0
```
"""

import math

import keras
import numpy as np

from kzoo.runtime.validation import check_positive_int


def _check_lengths(predictions, references):
    if len(predictions) != len(references):
        raise ValueError(
            "Received an invalid value for argument `predictions`, expected one prediction per reference. "
            f"Received: {len(predictions)} predictions and {len(references)} references"
        )


def _reference_streams(references):
    """sacrebleu wants one list per reference set; accept one str or a list of str per hypothesis."""
    if all(isinstance(reference, str) for reference in references):
        return [list(references)]
    counts = {len(reference) for reference in references}
    if len(counts) != 1:
        raise ValueError(
            "Received an invalid value for argument `references`, expected one string or the same number of "
            f"strings per prediction. Received: reference counts {sorted(counts)}"
        )
    return [list(stream) for stream in zip(*references)]


def bleu(predictions, references):
    """Corpus BLEU (sacrebleu, 13a tokenization), 0-100.

    Args:
        predictions: list of str. One hypothesis per example.
        references: list of str, or list of lists of str (several references
            per example, the same number for each).

    Example:
    ```python
    bleu(["the cat sat on the mat"], ["the cat sat on the mat"])  # 100.0
    ```
    """
    import sacrebleu

    _check_lengths(predictions, references)
    return float(sacrebleu.corpus_bleu(list(predictions), _reference_streams(references)).score)


def chrf(predictions, references):
    """Corpus chrF (sacrebleu, character 6-grams, beta 2), 0-100.

    Better than BLEU for single-word outputs such as German number compounds.

    Example:
    ```python
    chrf(["dreihundert"], ["dreihundert"])  # 100.0
    ```
    """
    import sacrebleu

    _check_lengths(predictions, references)
    return float(sacrebleu.corpus_chrf(list(predictions), _reference_streams(references)).score)


def entity_f1(predictions, references):
    """Entity-level F1 of BIO tag sequences (seqeval, CoNLL-2003 scoring), 0-1.

    Args:
        predictions: list of lists of str. Predicted tags per sentence.
        references: list of lists of str. True tags, same lengths.

    Example:
    ```python
    entity_f1([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]])  # 1.0
    ```
    """
    from seqeval.metrics import f1_score

    _check_lengths(predictions, references)
    for index, (predicted, true) in enumerate(zip(predictions, references)):
        if len(predicted) != len(true):
            raise ValueError(
                "Received an invalid value for argument `predictions`, expected one tag per reference tag. "
                f"Received: {len(predicted)} tags for {len(true)} in sentence {index}"
            )
    return float(f1_score([list(tags) for tags in references], [list(tags) for tags in predictions]))


def rouge(predictions, references, rouge_types=("rouge1", "rouge2", "rougeL"), use_stemmer=True):
    """Mean ROUGE F-measures (rouge-score), 0-1: `{"rouge1": ..., "rouge2": ..., "rougeL": ...}`.

    Example:
    ```python
    rouge(["the cat sat"], ["the cat sat"])["rougeL"]  # 1.0
    ```
    """
    from rouge_score import rouge_scorer

    _check_lengths(predictions, references)
    scorer = rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=use_stemmer)
    totals = {name: 0.0 for name in rouge_types}
    for prediction, reference in zip(predictions, references):
        scores = scorer.score(reference, prediction)
        for name in rouge_types:
            totals[name] += scores[name].fmeasure
    count = max(len(predictions), 1)
    return {name: total / count for name, total in totals.items()}


def accuracy(predictions, references):
    """Share of exact matches (scikit-learn `accuracy_score`), 0-1.

    Example:
    ```python
    accuracy([1, 2, 3, 0], [1, 2, 3, 4])  # 0.75
    ```
    """
    from sklearn.metrics import accuracy_score

    _check_lengths(predictions, references)
    return float(accuracy_score(np.asarray(references), np.asarray(predictions)))


def perplexity(losses, weights=None):
    """`exp` of the (weighted) mean cross-entropy in nats.

    Args:
        losses: float or array. A mean loss, or per-token losses.
        weights: array or None. Per-token weights (0 for padding), same shape as `losses`.

    Example:
    ```python
    perplexity(math.log(50.0))                    # 50.0
    perplexity([1.0, 3.0, 9.0], weights=[1, 1, 0])  # exp(2)
    ```
    """
    losses = np.asarray(losses, dtype=np.float64)
    if weights is None:
        mean = float(losses.mean())
    else:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != losses.shape or weights.sum() <= 0:
            raise ValueError(
                "Received an invalid value for argument `weights`, expected non-negative weights of the losses' shape "
                f"with a positive sum. Received: weights shape {weights.shape} for losses shape {losses.shape}"
            )
        mean = float((losses * weights).sum() / weights.sum())
    return math.exp(mean)


def bleu_by_length(predictions, references, lengths, edges=(20, 40, 60)):
    """Corpus BLEU within each band of source lengths: where a translator's quality falls with length.

    Args:
        predictions, references: as for `bleu`.
        lengths: list of int. Each example's source length (e.g. its number of
            tokenizer pieces).
        edges: increasing ints splitting the lengths into bands `[0, e0)`,
            `[e0, e1)`, ..., `[e_last, inf)`. Defaults to (20, 40, 60).

    Returns a list of `{"band": "20-39", "examples": n, "bleu": x}`, one per
    band in length order; an empty band has `bleu` None.

    Example:
    ```python
    rows = bleu_by_length(outputs, targets, [len(ids) for ids in tokenizer.encode(sources)])
    rows[-1]   # {"band": "60+", "examples": 276, "bleu": 91.3}
    ```
    """
    _check_lengths(predictions, references)
    _check_lengths(lengths, references)
    edges = [int(edge) for edge in edges]
    if any(later <= earlier for earlier, later in zip(edges, edges[1:])) or (edges and edges[0] <= 0):
        raise ValueError(f"Received an invalid value for argument `edges`, expected increasing positive ints. Received: {edges}")
    bounds = list(zip([0] + edges, edges + [None]))
    rows = []
    for low, high in bounds:
        chosen = [i for i, length in enumerate(lengths) if length >= low and (high is None or length < high)]
        rows.append({
            "band": f"{low}+" if high is None else f"{low}-{high - 1}",
            "examples": len(chosen),
            "bleu": bleu([predictions[i] for i in chosen], [references[i] for i in chosen]) if chosen else None,
        })
    return rows


METRICS = {
    "bleu": bleu,
    "chrf": chrf,
    "entity_f1": entity_f1,
    "rouge": rouge,
    "accuracy": accuracy,
    "perplexity": perplexity,
}


def compute_metric(name, predictions, references=None):
    """Computes metric `name` (a key of `METRICS`, e.g. a task's `metric`).

    For `"perplexity"`, `predictions` are the losses and `references` the
    optional weights.

    Example:
    ```python
    task = kzoo.data.load_task("numbers_en_de")
    score = compute_metric(task.metric, hypotheses, [target for _, target in task.test])
    ```
    """
    if name not in METRICS:
        raise ValueError(
            f"Received an invalid value for argument `name`, expected one of {', '.join(METRICS)}. Received: name={name!r}"
        )
    if name == "perplexity":
        return perplexity(predictions, references)
    if references is None:
        raise ValueError(f"Received an invalid value for argument `references`, expected references for {name}. Received: references=None")
    return METRICS[name](predictions, references)


class MetricCallback(keras.callbacks.Callback):
    """Computes a metric on validation data at the end of each epoch and adds it to `logs`.

    The value goes into the epoch's `logs` under `name`, so `History`, the
    progress bar and `keras.callbacks.TensorBoard` record it, provided this
    callback comes before `TensorBoard` in the `callbacks` list. A metric that
    returns a dict (ROUGE) logs one entry per key, `f"{name}_{key}"`.

    Args:
        metric: str or callable. A key of `METRICS`, or
            `metric(predictions, references) -> float | dict`.
        validation_data: `(inputs, references)`. `inputs` is whatever
            `predict_fn` takes; `references` what the metric compares against.
        predict_fn: callable. `predict_fn(model, inputs) -> predictions`
            (e.g. greedy decoding and detokenization for translation).
        name: str or None. Log key. Defaults to `"val_" + metric name`.
        every_n_epochs: int. Compute every n-th epoch (and log nothing in
            between). Defaults to 1.

    Example:
    ```python
    def translate(model, sources):
        return [tokenizer.decode(ids) for ids in my_greedy_decode(model, sources)]

    sources, references = zip(*task.validation[:200])
    callbacks = [
        kzoo.metrics.MetricCallback("bleu", (list(sources), list(references)), translate),
        keras.callbacks.TensorBoard("runs/translator"),
    ]
    model.fit(train, epochs=10, callbacks=callbacks)
    ```
    """

    def __init__(self, metric, validation_data, predict_fn, *, name=None, every_n_epochs=1):
        super().__init__()
        if isinstance(metric, str):
            if metric not in METRICS:
                raise ValueError(
                    f"Received an invalid value for argument `metric`, expected one of {', '.join(METRICS)} or a "
                    f"callable. Received: metric={metric!r}"
                )
            metric_name, metric_fn = metric, METRICS[metric]
        elif callable(metric):
            metric_name, metric_fn = getattr(metric, "__name__", "metric"), metric
        else:
            raise ValueError(f"Received an invalid value for argument `metric`, expected a name or a callable. Received: metric={metric!r}")
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise ValueError(
                "Received an invalid value for argument `validation_data`, expected a pair (inputs, references). "
                f"Received: type={type(validation_data).__name__}"
            )
        if not callable(predict_fn):
            raise ValueError(f"Received an invalid value for argument `predict_fn`, expected a callable. Received: predict_fn={predict_fn!r}")
        check_positive_int("every_n_epochs", every_n_epochs)
        self.metric = metric
        self.metric_fn = metric_fn
        self.validation_data = validation_data
        self.predict_fn = predict_fn
        self.name = name or f"val_{metric_name}"
        self.every_n_epochs = every_n_epochs

    def compute(self):
        """Runs `predict_fn` and the metric now; returns the value (float or dict)."""
        inputs, references = self.validation_data
        predictions = self.predict_fn(self.model, inputs)
        return self.metric_fn(predictions, references)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        value = self.compute()
        if logs is None:
            return
        if isinstance(value, dict):
            for key, item in value.items():
                logs[f"{self.name}_{key}"] = float(item)
        else:
            logs[self.name] = float(value)
