import pytest

import kzoo.data
from kzoo.data import registry

EXPECTED_KINDS = {
    "numbers_en_de": "translation",
    "numbers_en_fr": "translation",
    "numbers_en_es": "translation",
    "numbers_en_it": "translation",
    "numbers_long_en_de": "translation",
    "language_id": "classification",
    "faker_ner": "tagging",
    "pydoc_topics": "language_modeling",
    "python_docs": "masked_lm",
    "stdlib_topics": "classification",
    "digits": "image_classification",
}


def test_list_tasks_rows_without_generating_data():
    before = registry._generate.cache_info().currsize
    rows = kzoo.data.list_tasks()
    assert registry._generate.cache_info().currsize == before
    assert {row["name"]: row["kind"] for row in rows} == EXPECTED_KINDS
    for row in rows:
        assert set(row) == {"name", "kind", "description", "metric", "seed", "train", "validation", "test"}
        assert row["description"] and "\n" not in row["description"]
        assert row["train"] > row["validation"] > 0 and row["test"] > 0
    by_name = {row["name"]: row for row in rows}
    assert by_name["numbers_en_de"]["train"] >= 20_000
    assert {by_name[name]["metric"] for name in EXPECTED_KINDS} == {"bleu", "accuracy", "entity_f1", "perplexity"}
    assert kzoo.data.DEFAULT_TRANSLATION_TASK in by_name


@pytest.mark.parametrize("name", sorted(EXPECTED_KINDS))
def test_load_task_matches_listed_sizes_and_is_cached(name):
    task = kzoo.data.load_task(name)
    info = kzoo.data.task_info(name)
    assert (len(task.train), len(task.validation), len(task.test)) == (info["train"], info["validation"], info["test"])
    assert (task.kind, task.metric, task.seed) == (info["kind"], info["metric"], info["seed"])
    again = kzoo.data.load_task(name)
    assert again.train == task.train and again.train is not task.train  # same data, fresh lists
    again.train.clear()
    assert len(kzoo.data.load_task(name).train) == info["train"]


def test_unknown_task_suggests_close_names():
    with pytest.raises(ValueError, match=r"Received: name='numbers_en_dee'\. Did you mean 'numbers_en_de'"):
        kzoo.data.load_task("numbers_en_dee")
    with pytest.raises(ValueError, match=r"Received: name='zzz'\.$"):
        kzoo.data.load_task("zzz")


def test_register_task_validates_kind_and_duplicates():
    with pytest.raises(ValueError, match="kind='regression'"):
        kzoo.data.register_task("x", kind="regression", description="", metric="", seed=0, builder=None, split_sizes=None)
    with pytest.raises(ValueError, match="already registered. Received: name='digits'"):
        kzoo.data.register_task("digits", kind="translation", description="", metric="", seed=0, builder=None, split_sizes=None)


def test_import_kzoo_data_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, kzoo.data; kzoo.data.list_tasks(); print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
