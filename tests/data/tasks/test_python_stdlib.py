import collections

import numpy as np

import kzoo.data
from kzoo.data.tasks import python_stdlib


def _held_out_paragraphs(modules):
    return {
        paragraph
        for module in modules
        for docstring in python_stdlib._docstrings(module)
        for paragraph in python_stdlib._paragraphs(docstring)
    }


def test_splits_are_disjoint_by_module_and_hold_every_area():
    train, validation, test = python_stdlib.module_splits()
    assert not set(train) & set(validation) and not set(train) & set(test) and not set(validation) & set(test)
    assert sorted(train + validation + test) == sorted(m for modules in python_stdlib.AREAS.values() for m in modules)
    task = kzoo.data.load_task("stdlib_topics")
    texts = python_stdlib._texts_by_module()
    for split, modules in zip((task.train, task.validation, task.test), (train, validation, test)):
        assert [text for text, _ in split] == [text for module in modules for text in texts[module]]
        assert {label for _, label in split} == set(range(len(task.label_names)))
    total = len(task.train) + len(task.validation) + len(task.test)
    assert 0.65 < len(task.train) / total < 0.75 and min(len(task.validation), len(task.test)) >= 400


def test_texts_are_clean_first_paragraphs_in_one_split_only():
    task = kzoo.data.load_task("stdlib_topics")
    texts = [text for split in (task.train, task.validation, task.test) for text, _ in split]
    assert len(set(texts)) == len(texts)
    for text in texts:
        assert text == " ".join(text.split()) and len(text.split()) >= python_stdlib.MIN_WORDS
    # ntpath and posixpath share docstrings: a shared text is in neither.
    firsts = [
        {python_stdlib._paragraphs(docstring)[0] for docstring in python_stdlib._docstrings(module)}
        for module in ("ntpath", "posixpath")
    ]
    shared = {text for text in firsts[0] & firsts[1] if len(text.split()) >= python_stdlib.MIN_WORDS}
    assert len(shared) >= 3 and not shared & set(texts)


def test_corpus_never_holds_held_out_modules_text():
    train_modules, validation_modules, test_modules = python_stdlib.module_splits()
    corpus = kzoo.data.load_task("python_docs")
    train = set(corpus.train)
    held_out = _held_out_paragraphs(validation_modules + test_modules)
    assert held_out and not held_out & train
    # The stdlib_topics texts of a few modules, word for word: held-out ones never, training ones always.
    texts = python_stdlib._texts_by_module()
    for module in validation_modules[:3] + test_modules[:3]:
        assert texts[module][0] not in train, module
    for module in train_modules[:3]:
        assert texts[module][0] in train, module
    assert _held_out_paragraphs(["importlib"]) & train  # corpus-only modules are read
    pydoc = kzoo.data.load_task("pydoc_topics")
    assert (corpus.validation, corpus.test) == (pydoc.validation, pydoc.test)
    pydoc_held_out = set(pydoc.validation) | set(pydoc.test)
    assert set(pydoc.train) - pydoc_held_out - held_out <= train and not pydoc_held_out & train


def test_kinds_and_label_names():
    topics = kzoo.data.load_task("stdlib_topics")
    assert (topics.kind, topics.metric) == ("classification", "accuracy")
    assert topics.label_names == tuple(python_stdlib.AREAS) and len(topics.label_names) == 8
    counts = collections.Counter(label for _, label in topics.train)
    assert max(counts.values()) < 0.25 * len(topics.train)
    corpus = kzoo.data.load_task("python_docs")
    assert (corpus.kind, corpus.metric, corpus.label_names) == ("masked_lm", "perplexity", None)
    assert len(corpus.train) > 2 * len(topics.train)


def test_deterministic():
    first = python_stdlib._build_topics(python_stdlib.SEED), python_stdlib._build_corpus(python_stdlib.SEED)
    for cached in (python_stdlib._docstrings, python_stdlib._texts_by_module, python_stdlib._module_splits,
                   python_stdlib._topic_examples, python_stdlib._corpus):
        cached.cache_clear()
    second = python_stdlib._build_topics(python_stdlib.SEED), python_stdlib._build_corpus(python_stdlib.SEED)
    assert first == second
    assert python_stdlib.module_splits(1) != python_stdlib.module_splits(python_stdlib.SEED)


def test_task_datasets_give_batches():
    corpus = kzoo.data.load_task("python_docs").train
    tokenizer = kzoo.data.WordPieceTokenizer.train(corpus[:300] + corpus[-300:], vocabulary_size=400)
    options = {"batch_size": 8, "sequence_length": 32}
    inputs, labels = next(iter(kzoo.data.task_dataset("stdlib_topics", "train", tokenizer, **options)))
    assert inputs["token_ids"].shape == (8, 32) and labels.shape == (8,)
    assert 0 <= int(np.min(labels)) and int(np.max(labels)) < 8
    inputs, targets, weights = next(iter(kzoo.data.task_dataset("python_docs", "train", tokenizer, **options)))
    assert inputs["token_ids"].shape == targets.shape == weights.shape == (8, 32)
    assert float(np.sum(weights)) > 0 and np.any(inputs["token_ids"].numpy() != targets.numpy())
