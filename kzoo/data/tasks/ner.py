"""Token classification (NER): BIO-tagged English sentences with PER, LOC, ORG, DATE.

faker fills English template sentences with people, cities, countries and
companies drawn from seven of its locales (so names and places are English,
German, French, Spanish, Italian and Dutch), and babel formats the dates. Tags
follow CoNLL-2003's BIO scheme; titles ("Dr.") are left out of PER spans.

Example:
```python
task = kzoo.data.load_task("faker_ner")
tokens, tags = task.train[0]
print(list(zip(tokens, (task.label_names[t] for t in tags))))
```
"""

import datetime
import random
import re

from kzoo.data.registry import register_task

SEED = 2003
SPLIT_SIZES = (8_000, 1_000, 1_000)
ENTITY_TYPES = ("PER", "LOC", "ORG", "DATE")
LABEL_NAMES = ("O",) + tuple(f"{prefix}-{entity}" for entity in ENTITY_TYPES for prefix in ("B", "I"))
FAKER_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")
DATE_FORMATS = ("long", "medium", "full", "MMMM yyyy", "d MMMM yyyy")
TOKEN_PATTERN = re.compile(r"\w+(?:[-'’.&]\w+)*|[^\w\s]")
_SLOT = re.compile(r"\{(PER|LOC|ORG|DATE)\}")

TEMPLATES = (
    "{PER} moved to {LOC} on {DATE} .",
    "{PER} joined {ORG} in {DATE} .",
    "{ORG} opened a new office in {LOC} .",
    "{ORG} announced on {DATE} that {PER} will lead its team in {LOC} .",
    "According to {PER} , {ORG} will cut prices in {LOC} .",
    "{PER} and {PER} met in {LOC} on {DATE} .",
    "The contract between {ORG} and {ORG} was signed on {DATE} .",
    "{PER} , a spokesperson for {ORG} , declined to comment .",
    "Shares of {ORG} fell after the report from {LOC} .",
    "{PER} was born in {LOC} on {DATE} .",
    "On {DATE} , {PER} flew from {LOC} to {LOC} .",
    "{ORG} hired {PER} as chief financial officer .",
    "Police in {LOC} said {PER} had been released .",
    "{PER} told reporters in {LOC} that the deal was off .",
    "The festival in {LOC} starts on {DATE} .",
    "{ORG} reported record profits for {DATE} .",
    "{PER} will visit {ORG} headquarters in {LOC} next week .",
    "Why did {PER} leave {ORG} ?",
    "{LOC} and {LOC} signed a trade agreement on {DATE} .",
    "{PER} wrote to {PER} about the meeting in {LOC} .",
    "Until {DATE} , {PER} worked for {ORG} .",
    "A court in {LOC} fined {ORG} on {DATE} .",
    "{PER} has lived in {LOC} since {DATE} .",
    "{ORG} , based in {LOC} , makes garden furniture .",
    "The new bridge in {LOC} was designed by {PER} .",
    "{PER} sold the company to {ORG} .",
    "Nobody from {ORG} attended the hearing .",
    "It rained all day in {LOC} .",
    "The report is due on {DATE} .",
    "We thanked {PER} for the flowers .",
)


def _split_sizes():
    return SPLIT_SIZES


def _tokens(text):
    return TOKEN_PATTERN.findall(text)


def _entity_text(entity, rng, fakers):
    from babel.dates import format_date

    fake = fakers[rng.randrange(len(fakers))]
    if entity == "PER":
        style = rng.random()
        if style < 0.15:
            return fake.last_name()
        if style < 0.25:
            return fake.first_name()
        return f"{fake.first_name()} {fake.last_name()}"
    if entity == "LOC":
        return fake.city() if rng.random() < 0.7 else fake.country()
    if entity == "ORG":
        return fake.company()
    day = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(365 * 100))
    locale = "en_GB" if rng.random() < 0.4 else "en_US"
    return format_date(day, rng.choice(DATE_FORMATS), locale=locale)


def _sentence(rng, fakers):
    template = rng.choice(TEMPLATES)
    tokens, tags = [], []
    position = 0
    for match in _SLOT.finditer(template):
        for token in _tokens(template[position : match.start()]):
            tokens.append(token)
            tags.append(0)
        entity = match.group(1)
        entity_tokens = _tokens(_entity_text(entity, rng, fakers))
        begin = LABEL_NAMES.index(f"B-{entity}")
        for index, token in enumerate(entity_tokens):
            tokens.append(token)
            tags.append(begin if index == 0 else begin + 1)
        position = match.end()
    for token in _tokens(template[position:]):
        tokens.append(token)
        tags.append(0)
    return tuple(tokens), tuple(tags)


def _pin_list_order(fake):
    """Sort the word lists a provider built from a set, so a seed draws the same words in every process.

    faker's it_IT address provider makes its `cities` list from a set, whose order
    follows PYTHONHASHSEED: without this the task's data changed from run to run.
    """
    for generator in fake.factories:
        for provider in generator.providers:
            if isinstance(getattr(provider, "cities", None), list):
                provider.cities = sorted(provider.cities)


def _build(seed, split_sizes=SPLIT_SIZES):
    from faker import Faker

    fakers = []
    for index, locale in enumerate(FAKER_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        _pin_list_order(fake)
        fakers.append(fake)
    rng = random.Random(seed)
    seen = set()
    splits = []
    for size in split_sizes:
        split = []
        while len(split) < size:
            example = _sentence(rng, fakers)
            if example[0] in seen:
                continue
            seen.add(example[0])
            split.append(example)
        splits.append(split)
    train, validation, test = splits
    return train, validation, test, LABEL_NAMES


register_task(
    "faker_ner",
    kind="tagging",
    description="English template sentences with BIO tags for PER, LOC, ORG, DATE from faker's locales.",
    metric="entity_f1",
    seed=SEED,
    builder=_build,
    split_sizes=_split_sizes,
)
