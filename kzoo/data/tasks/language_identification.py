"""Text classification: which of eight European languages is a short text in?

The words are real vocabulary that installed packages ship per language:
faker's lorem word lists (`faker.providers.lorem.<locale>`), babel's CLDR month,
weekday, country and language names, and num2words' numbers. Each example is
1 to 8 words sampled from one language, so short examples of related languages
(German/Dutch, Czech/Polish, the Romance languages) are genuinely ambiguous:
learnable, but not trivially solved. No text appears in two splits.

Example:
```python
task = kzoo.data.load_task("language_id")
text, label = task.train[0]
print(text, "->", task.label_names[label])
```
"""

import functools
import random

from kzoo.data.registry import register_task

SEED = 61
# label name -> faker lorem locale
LANGUAGES = {
    "cs": "cs_CZ",
    "de": "de_DE",
    "en": "en_US",
    "es": "es_ES",
    "fr": "fr_FR",
    "it": "it_IT",
    "nl": "nl_NL",
    "pl": "pl_PL",
}
SPLIT_SIZES_PER_LANGUAGE = (2_000, 250, 250)
WORD_COUNT_WEIGHTS = {1: 4, 2: 10, 3: 16, 4: 20, 5: 18, 6: 14, 7: 10, 8: 8}
# Chance that a word comes from babel / num2words instead of the lorem list.
CLDR_WORD_RATE = 0.15
NUMBER_WORD_RATE = 0.05


def _split_sizes():
    return tuple(size * len(LANGUAGES) for size in SPLIT_SIZES_PER_LANGUAGE)


@functools.lru_cache(maxsize=None)
def _vocabulary(language):
    """(lorem words, CLDR names, number words) of one language."""
    from babel import Locale
    from faker import Faker
    from num2words import num2words

    # The locale's lorem provider word list (Faker's public accessor of it).
    words = tuple(sorted({word for word in Faker(LANGUAGES[language]).get_words_list() if word.strip()}))
    locale = Locale.parse(language)
    names = set(locale.months["format"]["wide"].values())
    names |= set(locale.days["format"]["wide"].values())
    names |= {name for code, name in locale.territories.items() if code.isalpha()}
    names |= set(locale.languages.values())
    numbers = tuple(num2words(n, lang=language) for n in range(101))
    return words, tuple(sorted(names)), numbers


def _sentence(rng, language):
    words, names, numbers = _vocabulary(language)
    count = rng.choices(list(WORD_COUNT_WEIGHTS), weights=list(WORD_COUNT_WEIGHTS.values()))[0]
    chosen = []
    for _ in range(count):
        roll = rng.random()
        if roll < NUMBER_WORD_RATE:
            chosen.append(rng.choice(numbers))
        elif roll < NUMBER_WORD_RATE + CLDR_WORD_RATE:
            chosen.append(rng.choice(names))
        else:
            chosen.append(rng.choice(words))
    text = " ".join(chosen)
    if rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    ending = rng.random()
    if ending < 0.35:
        text += "."
    elif ending < 0.40:
        text += "?"
    return text


def _build(seed):
    rng = random.Random(seed)
    label_names = tuple(LANGUAGES)
    seen = set()
    splits = [[], [], []]
    for label, language in enumerate(label_names):
        for split, size in zip(splits, SPLIT_SIZES_PER_LANGUAGE):
            made = 0
            while made < size:
                text = _sentence(rng, language)
                if text in seen:
                    continue
                seen.add(text)
                split.append((text, label))
                made += 1
    for index, split in enumerate(splits):
        random.Random(seed * 10 + index).shuffle(split)
    train, validation, test = splits
    return train, validation, test, label_names


register_task(
    "language_id",
    kind="classification",
    description=(
        "Language identification over 8 languages (cs de en es fr it nl pl) from faker, "
        "babel and num2words vocabulary, 1-8 words."
    ),
    metric="accuracy",
    seed=SEED,
    builder=_build,
    split_sizes=_split_sizes,
)
