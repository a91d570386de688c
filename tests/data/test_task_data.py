import pytest

from kzoo.data.task_data import TaskData


def make(kind, train):
    return TaskData("t", kind, "d", "m", 0, train=train, validation=[], test=[], label_names=None)


def test_texts_per_kind():
    assert make("translation", [("a", "b"), ("c", "d")]).texts() == ["a", "c", "b", "d"]
    assert make("classification", [("x", 1)]).texts() == ["x"]
    assert make("tagging", [(("Anna", "sings"), (1, 0))]).texts() == ["Anna sings"]
    assert make("language_modeling", ["p1", "p2"]).texts() == ["p1", "p2"]
    assert make("image_classification", [(None, 1)]).texts() == []


def test_split_by_name():
    task = make("language_modeling", ["p"])
    assert task.split("train") == ["p"] and task.split("test") == []
    with pytest.raises(ValueError, match="name='dev'"):
        task.split("dev")


def test_task_data_does_not_depend_on_the_hash_seed():
    """faker's it_IT cities came from a set; its order followed PYTHONHASHSEED (regression)."""
    import os
    import subprocess
    import sys

    script = ("import hashlib, kzoo.data as d; t = d.load_task('faker_ner'); "
              "print(hashlib.sha256(repr((t.train, t.validation, t.test)).encode()).hexdigest())")
    digests = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300,
                       env=dict(os.environ, PYTHONHASHSEED=seed)).stdout.strip()
        for seed in ("0", "1")
    }
    assert len(digests) == 1
