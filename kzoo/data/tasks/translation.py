"""Translation tasks: English number and date phrases into another language.

num2words spells the numbers ("three hundred and forty-seven" ->
"dreihundertsiebenundvierzig") and babel formats the dates from CLDR data
("November 22, 2026" -> "22. November 2026", "Sunday, November 22, 2026" ->
"Sonntag, 22. November 2026", "Nov 22, 2026" -> "22.11.2026").

The splits are made by value: every number and every date appears in exactly
one split, so the test split measures generalisation to unseen values, not
memory. All pairs share one seed and therefore the same English side.

`numbers_long_en_de` joins 1 to `LONG_MAX_PHRASES` pairs of one split of
`numbers_en_de` with "; " on both sides, so sources reach about 100 SentencePiece
tokens: long enough to see whether a translator's attention holds up with length
(the long-range claim of Bahdanau et al., 2015). Its splits inherit the values'
disjointness.

Example:
```python
task = kzoo.data.load_task("numbers_en_de")
task.train[:3]
```
"""

import datetime
import functools
import random

from kzoo.data.registry import register_task

TARGET_LANGUAGES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
}
DEFAULT_TRANSLATION_TASK = "numbers_en_de"

SEED = 20260
NUMBER_SPLIT_SIZES = (10_000, 500, 500)
DATE_SPLIT_SIZES = (10_000, 500, 500)
# Share of numbers with 1, 2, ..., 7 digits (all 1- and 2-digit numbers are
# too few to fill their share, so sampling without replacement tops up the rest).
DIGIT_COUNT_WEIGHTS = (2, 8, 20, 25, 20, 15, 10)
# babel date format names and how often each is used.
DATE_FORMATS = (("long", 5), ("full", 3), ("medium", 2))
LONG_SPLIT_SIZES = (20_000, 400, 800)
LONG_MAX_PHRASES = 8
LONG_SEPARATOR = "; "
FIRST_DATE = datetime.date(1900, 1, 1)
LAST_DATE = datetime.date(2099, 12, 31)


def _split_sizes():
    return tuple(n + d for n, d in zip(NUMBER_SPLIT_SIZES, DATE_SPLIT_SIZES))


def _distinct_sample(draw, count):
    values, seen = [], set()
    while len(values) < count:
        value = draw()
        if value not in seen:
            seen.add(value)
            values.append(value)
    return values


@functools.lru_cache(maxsize=4)
def _values(seed):
    """Distinct numbers and dates, each list ordered test, validation, train."""
    rng = random.Random(seed)
    digit_counts = list(range(1, len(DIGIT_COUNT_WEIGHTS) + 1))

    def draw_number():
        digits = rng.choices(digit_counts, weights=DIGIT_COUNT_WEIGHTS)[0]
        return rng.randrange(0 if digits == 1 else 10 ** (digits - 1), 10**digits)

    numbers = _distinct_sample(draw_number, sum(NUMBER_SPLIT_SIZES))
    day_count = (LAST_DATE - FIRST_DATE).days + 1
    format_names = [name for name, _ in DATE_FORMATS]
    format_weights = [weight for _, weight in DATE_FORMATS]
    days = _distinct_sample(lambda: rng.randrange(day_count), sum(DATE_SPLIT_SIZES))
    dates = [
        (FIRST_DATE + datetime.timedelta(days=day), rng.choices(format_names, format_weights)[0])
        for day in days
    ]
    return numbers, dates


def _split_by_value(values, sizes):
    train_size, validation_size, test_size = sizes
    test = values[:test_size]
    validation = values[test_size : test_size + validation_size]
    train = values[test_size + validation_size : test_size + validation_size + train_size]
    return train, validation, test


@functools.lru_cache(maxsize=None)
def _number_words(value, language):
    from num2words import num2words

    return num2words(value, lang=language)


def _date_words(date, format_name, language):
    from babel.dates import format_date

    return format_date(date, format_name, locale=language)


def split_values(seed=SEED):
    """Returns the numbers and dates of each split: `{split: (numbers, dates)}`.

    Used by tests to check that no value crosses splits.

    Example:
    ```python
    values = split_values()
    assert not set(values["train"][0]) & set(values["test"][0])
    ```
    """
    numbers, dates = _values(seed)
    number_splits = _split_by_value(numbers, NUMBER_SPLIT_SIZES)
    date_splits = _split_by_value([date for date, _ in dates], DATE_SPLIT_SIZES)
    return {
        name: (number_splits[i], date_splits[i])
        for i, name in enumerate(("train", "validation", "test"))
    }


def _builder(target_language):
    def build(seed):
        numbers, dates = _values(seed)
        splits = []
        for index, (number_values, date_values) in enumerate(
            zip(
                _split_by_value(numbers, NUMBER_SPLIT_SIZES),
                _split_by_value(dates, DATE_SPLIT_SIZES),
            )
        ):
            pairs = [(_number_words(n, "en"), _number_words(n, target_language)) for n in number_values]
            pairs += [
                (_date_words(date, fmt, "en"), _date_words(date, fmt, target_language))
                for date, fmt in date_values
            ]
            random.Random(seed * 10 + index).shuffle(pairs)
            splits.append(pairs)
        train, validation, test = splits
        return train, validation, test, None

    return build


def _long_builder(seed):
    """Each split's examples join 1..LONG_MAX_PHRASES pairs drawn from the same split of numbers_en_de."""
    splits = []
    for index, (pairs, size) in enumerate(zip(_builder("de")(seed)[:3], LONG_SPLIT_SIZES)):
        rng = random.Random(seed * 100 + index)
        examples = []
        for _ in range(size):
            chosen = rng.sample(pairs, rng.randint(1, LONG_MAX_PHRASES))
            examples.append(tuple(LONG_SEPARATOR.join(side) for side in zip(*chosen)))
        splits.append(examples)
    return (*splits, None)


for _language, _language_name in TARGET_LANGUAGES.items():
    register_task(
        f"numbers_en_{_language}",
        kind="translation",
        description=(
            f"English number and date phrases into {_language_name} (num2words, "
            "babel CLDR); test values never seen in training."
        ),
        metric="bleu",
        seed=SEED,
        builder=_builder(_language),
        split_sizes=_split_sizes,
    )

register_task(
    "numbers_long_en_de",
    kind="translation",
    description=(
        f"1 to {LONG_MAX_PHRASES} numbers_en_de phrases joined by '{LONG_SEPARATOR.strip()}': sources up to "
        "about 100 tokens, for attention over long inputs; values disjoint across splits."
    ),
    metric="bleu",
    seed=SEED,
    builder=_long_builder,
    split_sizes=lambda: LONG_SPLIT_SIZES,
)
