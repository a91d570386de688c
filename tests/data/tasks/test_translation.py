import datetime
import re

from num2words import num2words

import kzoo.data
from kzoo.data.tasks import translation


def test_splits_are_disjoint_by_value():
    values = translation.split_values()
    train_numbers, train_dates = values["train"]
    for split in ("validation", "test"):
        numbers, dates = values[split]
        assert not set(numbers) & set(train_numbers)
        assert not set(dates) & set(train_dates)
    assert not set(values["validation"][0]) & set(values["test"][0])
    assert len(set(train_numbers)) == len(train_numbers) == translation.NUMBER_SPLIT_SIZES[0]


def test_test_sources_never_appear_in_training():
    task = kzoo.data.load_task("numbers_en_it")
    train_sources = {source for source, _ in task.train}
    assert not {source for source, _ in task.test} & train_sources
    assert len(task.train) >= 20_000


def test_pairs_are_num2words_and_babel_phrases():
    task = kzoo.data.load_task("numbers_en_de")
    numbers, dates = translation.split_values()["test"]
    pairs = set(task.test)
    assert (num2words(numbers[0], lang="en"), num2words(numbers[0], lang="de")) in pairs
    assert ("November 22, 2026", "22. November 2026") == (
        translation._date_words(datetime.date(2026, 11, 22), "long", "en"),
        translation._date_words(datetime.date(2026, 11, 22), "long", "de"),
    )
    assert ("three hundred and forty-seven", "dreihundertsiebenundvierzig") == (
        translation._number_words(347, "en"), translation._number_words(347, "de"),
    )
    date_pairs = [pair for pair in task.test if re.search(r"\b(19|20)\d\d$", pair[0])]
    assert len(date_pairs) >= translation.DATE_SPLIT_SIZES[2] * 0.9


def test_generation_is_deterministic_and_seeded():
    cached = translation._values(translation.SEED)
    translation._values.cache_clear()
    assert translation._values(translation.SEED) == cached
    assert translation._values(translation.SEED + 1)[0][:50] != cached[0][:50]
    assert translation._builder("it")(translation.SEED)[0] == kzoo.data.load_task("numbers_en_it").train


def test_all_pairs_share_the_english_side():
    de, es = kzoo.data.load_task("numbers_en_de"), kzoo.data.load_task("numbers_en_es")
    assert sorted(s for s, _ in de.test) == sorted(s for s, _ in es.test)
    assert [s for s, _ in de.test] != [t for _, t in de.test]


def test_long_task_joins_phrases_of_one_split_and_reaches_long_sources():
    long, short = kzoo.data.load_task("numbers_long_en_de"), kzoo.data.load_task("numbers_en_de")
    assert (len(long.train), len(long.validation), len(long.test)) == translation.LONG_SPLIT_SIZES
    phrases = {split: dict(short.split(split)) for split in ("train", "validation", "test")}
    for split in ("train", "validation", "test"):
        for source, target in long.split(split)[:200]:
            sources, targets = source.split("; "), target.split("; ")
            assert 1 <= len(sources) == len(targets) <= translation.LONG_MAX_PHRASES
            # Each phrase is a pair of the same split of numbers_en_de (German dates never hold "; ").
            assert all(phrases[split].get(s) == t for s, t in zip(sources, targets)), (split, source)
    assert translation._long_builder(translation.SEED)[2] == long.test  # Deterministic.
    counts = [source.count("; ") + 1 for source, _ in long.test]
    assert set(counts) == set(range(1, translation.LONG_MAX_PHRASES + 1))
    assert max(len(source.split()) for source, _ in long.test) >= 60  # Words; pieces are more.
