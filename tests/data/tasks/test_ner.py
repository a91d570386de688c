import collections

import kzoo.data
from kzoo.data.tasks import ner


def test_tags_are_valid_bio_with_all_entity_types():
    task = kzoo.data.load_task("faker_ner")
    assert task.label_names == ("O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-DATE", "I-DATE")
    entity_counts = collections.Counter()
    for tokens, tags in task.train + task.test:
        assert len(tokens) == len(tags) and all(token.strip() == token and token for token in tokens)
        previous = "O"
        for tag in (task.label_names[t] for t in tags):
            if tag.startswith("I-"):
                assert previous[2:] == tag[2:], (tokens, tags)
            if tag.startswith("B-"):
                entity_counts[tag[2:]] += 1
            previous = tag
    assert set(entity_counts) == {"PER", "LOC", "ORG", "DATE"}
    assert min(entity_counts.values()) > 1000


def test_example_tagging():
    task = kzoo.data.load_task("faker_ner")
    names = task.label_names
    tokens, tags = next((t, g) for t, g in task.train if t[-3:] == ("the", "flowers", ".") and t[0] == "We")
    assert [names[tag] for tag in tags[:2]] == ["O", "O"] and names[tags[2]] == "B-PER"


def test_deterministic_and_sentences_unique():
    task = kzoo.data.load_task("faker_ner")
    # Sentences are generated in order, train first: a small build is a prefix of the full one.
    small_train = ner._build(ner.SEED, split_sizes=(200, 0, 0))[0]
    assert small_train == task.train[:200]
    assert ner._build(ner.SEED + 1, split_sizes=(200, 0, 0))[0] != small_train
    sentences = [tokens for split in (task.train, task.validation, task.test) for tokens, _ in split]
    assert len(set(sentences)) == len(sentences)
