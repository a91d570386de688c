"""Fixtures of the server tests: the test bundles, a server process per bundle, the same bundles in-process."""

import pytest

from kzoo.runtime import load
from tests.runtime import bundles as test_bundles
from tests.serve.servers import API_KEY, Server


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return test_bundles.bundles(tmp_path_factory)


@pytest.fixture(scope="module")
def servers(built, tmp_path_factory):
    logs = tmp_path_factory.mktemp("server_logs")
    started = {
        "translator": Server(built["translator"][0], logs / "translator.log", api_key=API_KEY),
        "classifier": Server(built["classifier"][0], logs / "classifier.log", "--max-batch-size", "8", api_key=API_KEY),
        "tagger": Server(built["tagger"][0], logs / "tagger.log"),
        "lm": Server(built["lm"][0], logs / "lm.log"),
        "vit": Server(built["vit"][0], logs / "vit.log"),
    }
    try:
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def runtimes(built):
    """The same bundles in this process, with the server's settings (ONNX, one thread)."""
    return {name: load(folder, threads=1) for name, (folder, _) in built.items()}
