"""Language modelling: the English reference text that ships with Python.

The standard library's `pydoc_data.topics` holds the language reference pages
`help()` shows (about 80 topics, 460k characters). Each example is one
paragraph with its whitespace collapsed and reST underlines removed. The split
is by topic (a seeded permutation), so validation and test are pages the model
never read.

Example:
```python
task = kzoo.data.load_task("pydoc_topics")
print(task.train[0][:80])
```
"""

import functools
import random
import re

from kzoo.data.registry import register_task

SEED = 3
VALIDATION_TOPICS = 7
TEST_TOPICS = 7
_UNDERLINE = re.compile(r"^\s*([*=\-~^#+])\1{2,}\s*$")
_BLANK_LINES = re.compile(r"\n\s*\n")


def _paragraphs(text):
    paragraphs = []
    for block in _BLANK_LINES.split(text):
        lines = [line for line in block.splitlines() if not _UNDERLINE.match(line)]
        paragraph = " ".join(" ".join(lines).split())
        if paragraph:
            paragraphs.append(paragraph)
    return paragraphs


@functools.lru_cache(maxsize=4)
def _topic_splits(seed):
    from pydoc_data.topics import topics

    names = sorted(topics)
    random.Random(seed).shuffle(names)
    test = names[:TEST_TOPICS]
    validation = names[TEST_TOPICS : TEST_TOPICS + VALIDATION_TOPICS]
    train = names[TEST_TOPICS + VALIDATION_TOPICS :]
    return tuple(
        tuple(paragraph for name in sorted(split) for paragraph in _paragraphs(topics[name]))
        for split in (train, validation, test)
    ) + ((tuple(sorted(train)), tuple(sorted(validation)), tuple(sorted(test))),)


def topics_of_splits(seed=SEED):
    """Returns the pydoc topic names of each split: `(train, validation, test)`.

    Example:
    ```python
    train_topics, _, test_topics = topics_of_splits()
    assert not set(train_topics) & set(test_topics)
    ```
    """
    return _topic_splits(seed)[3]


def _split_sizes():
    train, validation, test, _ = _topic_splits(SEED)
    return len(train), len(validation), len(test)


def _build(seed):
    train, validation, test, _ = _topic_splits(seed)
    return list(train), list(validation), list(test), None


register_task(
    "pydoc_topics",
    kind="language_modeling",
    description="Python's own reference text (pydoc_data.topics), one paragraph per example, split by topic.",
    metric="perplexity",
    seed=SEED,
    builder=_build,
    split_sizes=_split_sizes,
)
