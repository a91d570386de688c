"""A user's data file as a task: formats per kind, label names, the split by position, one sentence on bad input."""

import json

import pytest

from kzoo.data import MalformedDataError, task_from_file


def test_translation_tsv_splits_every_tenth_example_to_validation_and_test(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{i}\tzahl {i}\n" for i in range(30)))
    task = task_from_file(path, "translation")
    assert task.kind == "translation" and task.metric == "bleu" and task.name == "pairs"
    assert [s for s, _ in task.validation] == ["8", "18", "28"] and [s for s, _ in task.test] == ["9", "19", "29"]
    assert len(task.train) == 24 and task.train[0] == ("0", "zahl 0")
    whole = task_from_file(path, "translation", holdout=False)
    assert whole.train == whole.validation == whole.test and len(whole.test) == 30


def test_classification_labels_map_to_the_models_names(tmp_path):
    path = tmp_path / "reviews.jsonl"
    rows = [{"text": f"text {i}", "label": ["good", "bad"][i % 2]} for i in range(10)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    found = task_from_file(path, "classification", holdout=False)
    assert found.label_names == ("bad", "good") and found.train[0] == ("text 0", 1)
    named = task_from_file(path, "classification", label_names=["good", "bad", "meh"], holdout=False)
    assert named.label_names == ("good", "bad", "meh") and named.train[:2] == [("text 0", 0), ("text 1", 1)]
    with pytest.raises(ValueError, match=r"reviews.jsonl has the label 'bad', which is not one of the model's 2 "
                                         r"\(good, meh\); fix the file or train on it\."):
        task_from_file(path, "classification", label_names=["good", "meh"], holdout=False)


def test_tagging_reads_conll_and_text_reads_paragraphs(tmp_path):
    conll = tmp_path / "ner.conll"
    conll.write_text("Alice B-PER\nlives O\n\nParis B-LOC\n\n")
    task = task_from_file(conll, "tagging", holdout=False)
    assert task.label_names == ("B-LOC", "B-PER", "O") and task.train == [(("Alice", "lives"), (1, 2)), (("Paris",), (0,))]
    text = tmp_path / "corpus.txt"
    text.write_text("first paragraph\nstill first\n\nsecond one\n")
    assert task_from_file(text, "masked_lm", holdout=False).train == ["first paragraph\nstill first", "second one"]


def test_bad_files_fail_with_one_sentence(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"The data file .*missing.tsv does not exist\."):
        task_from_file(tmp_path / "missing.tsv", "translation")
    short = tmp_path / "short.tsv"
    short.write_text("a\tb\n" * 5)
    with pytest.raises(ValueError, match=r"short.tsv has 5 examples; training needs at least 10"):
        task_from_file(short, "translation")
    broken = tmp_path / "broken.tsv"
    broken.write_text("a\tb\nno tab here\n")
    with pytest.raises(MalformedDataError, match=r"broken.tsv.*line 2"):
        task_from_file(broken, "translation", holdout=False)
    with pytest.raises(ValueError, match=r"expected one of translation, classification"):
        task_from_file(short, "summaries")
