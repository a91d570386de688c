import kzoo.data
from kzoo.data.tasks import language_modeling


def test_split_by_topic_and_clean_paragraphs():
    train_topics, validation_topics, test_topics = language_modeling.topics_of_splits()
    assert not set(train_topics) & set(test_topics) and not set(train_topics) & set(validation_topics)
    assert len(test_topics) == language_modeling.TEST_TOPICS
    task = kzoo.data.load_task("pydoc_topics")
    for paragraph in task.train + task.test:
        assert paragraph == paragraph.strip() and "\n" not in paragraph and "  " not in paragraph
        assert not paragraph.endswith("*****")  # reST heading underlines are removed
    assert sum(len(p) for p in task.train) > 200_000


def test_paragraphs_drop_underlines():
    text = 'The "assert" statement\n**********************\n\nAssert   statements\nare handy.\n'
    assert language_modeling._paragraphs(text) == ['The "assert" statement', "Assert statements are handy."]
