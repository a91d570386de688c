import math

import keras
import numpy as np
import pytest

from kzoo import metrics


def test_bleu_and_chrf_known_values():
    assert metrics.bleu(["the cat sat on the mat"], ["the cat sat on the mat"]) == pytest.approx(100.0)
    assert metrics.bleu(["completely different words here"], ["the cat sat on the mat"]) == pytest.approx(0.0)
    # sacrebleu's README example (3 hypotheses, 2 references each): BLEU 48.53.
    hypotheses = ["The dog bit the man.", "It wasn't surprising.", "The man had just bitten him."]
    references = [
        ["The dog bit the man.", "The dog had bit the man."],
        ["It was not unexpected.", "No one was surprised."],
        ["The man bit him first.", "The man had bitten the dog."],
    ]
    assert metrics.bleu(hypotheses, references) == pytest.approx(48.530827, abs=1e-4)
    assert metrics.chrf(["dreihundert"], ["dreihundert"]) == pytest.approx(100.0)
    assert 0 < metrics.chrf(["dreihundertzwei"], ["dreihundertdrei"]) < 100


def test_entity_f1_counts_spans():
    truth = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    assert metrics.entity_f1(truth, truth) == 1.0
    # One of three entities wrong (PER cut short): precision 2/3, recall 2/3.
    predicted = [["B-PER", "O", "O", "B-LOC"], ["B-ORG", "O"]]
    assert metrics.entity_f1(predicted, truth) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="3 tags for 4 in sentence 0"):
        metrics.entity_f1([["O", "O", "O"], ["O", "O"]], truth)


def test_rouge_accuracy_perplexity():
    scores = metrics.rouge(["the cat sat"], ["the cat sat"])
    assert scores == {"rouge1": 1.0, "rouge2": 1.0, "rougeL": 1.0}
    assert metrics.rouge(["the cat"], ["the cat sat down"])["rouge1"] == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert metrics.accuracy([1, 2, 3, 0], [1, 2, 3, 4]) == 0.75
    assert metrics.perplexity(math.log(50.0)) == pytest.approx(50.0)
    assert metrics.perplexity([1.0, 3.0, 9.0], weights=[1, 1, 0]) == pytest.approx(math.exp(2.0))
    with pytest.raises(ValueError, match="weights"):
        metrics.perplexity([1.0], weights=[0.0])


def test_bleu_by_length_scores_each_band_as_corpus_bleu_of_its_examples():
    references = ["eins zwei drei vier", "fünf sechs sieben acht", "neun zehn elf zwölf", "a b c d"]
    predictions = ["eins zwei drei vier", "fünf sechs sieben", "neun zehn elf zwölf", "x y z w"]
    rows = metrics.bleu_by_length(predictions, references, lengths=[5, 25, 70, 61], edges=(20, 40, 60))
    assert [(row["band"], row["examples"]) for row in rows] == [("0-19", 1), ("20-39", 1), ("40-59", 0), ("60+", 2)]
    assert rows[0]["bleu"] == pytest.approx(100.0) and rows[2]["bleu"] is None
    assert rows[1]["bleu"] == pytest.approx(metrics.bleu(predictions[1:2], references[1:2]))
    assert rows[3]["bleu"] == pytest.approx(metrics.bleu(predictions[2:], references[2:]))
    with pytest.raises(ValueError, match="edges"):
        metrics.bleu_by_length(predictions, references, [1, 2, 3, 4], edges=(40, 20))


def test_compute_metric_by_name():
    assert metrics.compute_metric("accuracy", [1, 1], [1, 0]) == 0.5
    assert metrics.compute_metric("perplexity", [0.0, 0.0]) == 1.0
    with pytest.raises(ValueError, match="name='wer'"):
        metrics.compute_metric("wer", [], [])
    with pytest.raises(ValueError, match="2 predictions and 1 references"):
        metrics.compute_metric("bleu", ["a", "b"], ["a"])


def test_metric_callback_logs_into_history_each_epoch():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.array([[0.0, 1.0], [1.0, 0.0]] * 4, dtype="float32")
    y = np.array([1, 0] * 4)
    calls = []

    def predict(model_, features):
        calls.append(model_ is model)
        return [1] * len(features)  # always "1": half right

    callback = metrics.MetricCallback("accuracy", (x, y.tolist()), predict)
    every_other = metrics.MetricCallback(lambda p, r: {"a": 1.0, "b": 2.0}, (x, y), predict, name="val_pair", every_n_epochs=2)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callback, every_other])
    assert history.history["val_accuracy"] == [0.5, 0.5]
    assert history.history["val_pair_a"] == [1.0] and history.history["val_pair_b"] == [2.0]
    assert calls == [True, True, True]


def test_metric_callback_value_reaches_tensorboard(tmp_path):
    import glob

    import tensorflow as tf

    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = np.zeros((4, 2), "float32"), np.array([0, 1, 0, 1])
    callbacks = [
        metrics.MetricCallback("accuracy", (x, y.tolist()), lambda m, f: [0, 1, 0, 0]),
        keras.callbacks.TensorBoard(str(tmp_path)),
    ]
    model.fit(x, y, epochs=1, verbose=0, callbacks=callbacks)
    values = {}
    for path in glob.glob(str(tmp_path / "validation" / "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                values[value.tag] = float(tf.make_ndarray(value.tensor))
    # Keras writes "val_*" logs to the validation run with an "epoch_" prefix.
    assert values["epoch_accuracy"] == pytest.approx(0.75)


def test_metric_callback_argument_errors():
    with pytest.raises(ValueError, match="metric='bleurt'"):
        metrics.MetricCallback("bleurt", ([], []), lambda m, x: x)
    with pytest.raises(ValueError, match="validation_data"):
        metrics.MetricCallback("bleu", [1, 2, 3], lambda m, x: x)
