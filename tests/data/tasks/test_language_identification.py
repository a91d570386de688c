import collections

import kzoo.data
from kzoo.data.tasks import language_identification


def test_balanced_labels_and_no_shared_text():
    task = kzoo.data.load_task("language_id")
    assert len(task.label_names) >= 6
    assert task.label_names == ("cs", "de", "en", "es", "fr", "it", "nl", "pl")
    counts = collections.Counter(label for _, label in task.train)
    assert set(counts.values()) == {language_identification.SPLIT_SIZES_PER_LANGUAGE[0]}
    texts = [text for split in (task.train, task.validation, task.test) for text, _ in split]
    assert len(set(texts)) == len(texts)
    lengths = collections.Counter(len(text.split()) for text, _ in task.train)
    assert min(lengths) == 1 and max(lengths) >= 8  # short, ambiguous texts included


def test_texts_are_words_of_their_language():
    task = kzoo.data.load_task("language_id")
    german = language_identification._vocabulary("de")
    known = set(german[0]) | {w for name in german[1] for w in name.split()} | {w for n in german[2] for w in n.split()}
    german_texts = [text for text, label in task.train if task.label_names[label] == "de"][:200]
    words = [word.strip(".?").lower() for text in german_texts for word in text.split()]
    assert sum(word in {k.lower() for k in known} for word in words) / len(words) > 0.95


def test_deterministic():
    first = language_identification._build(language_identification.SEED)
    second = language_identification._build(language_identification.SEED)
    assert first == second
    assert language_identification._build(1)[0][:20] != first[0][:20]
