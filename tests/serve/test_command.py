"""`kzoo serve` / `python -m kzoo.serve` (`kzoo.serve.command`): refusals before start, and a clean drain on SIGTERM."""

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.runtime import bundles as test_bundles
from tests.serve.servers import REPOSITORY, Server, free_port


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return test_bundles.bundles(tmp_path_factory)


def test_a_bad_port_is_refused_in_one_sentence(built):
    result = subprocess.run([sys.executable, "-m", "kzoo.serve", str(built["classifier"][0]), "--port", "70000"],
                            cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr == "kzoo serve: --port must be in 1..65535; received 70000.\n"


def test_a_tampered_bundle_refuses_to_start_naming_the_file(built, tmp_path):
    folder = tmp_path / "classifier"
    shutil.copytree(built["classifier"][0], folder)
    (folder / "model.onnx").write_bytes((folder / "model.onnx").read_bytes() + b"\0")
    result = subprocess.run([sys.executable, "-m", "kzoo.serve", str(folder), "--port", str(free_port())],
                            cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("kzoo serve: Bundle file model.onnx has") and "Traceback" not in result.stderr


def test_sigterm_lets_requests_in_flight_finish_then_exits_cleanly(built, tmp_path):
    server = Server(built["translator"][0], tmp_path / "server.log", "--concurrency", "1", "--no-access-log").wait_ready()
    body = {"texts": test_bundles.TRANSLATION_TEXTS * 8, "strategy": "beam", "num_beams": 8}
    results, finished_at = [], []

    def call():
        try:
            response = server.post("/v1/translate", body, headers={})
            results.append((response.status_code, response.json()))
        except httpx.HTTPError as error:  # recorded, and fails the test below
            results.append((None, repr(error)))
        finished_at.append(time.monotonic())

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while httpx.get(server.url + "/healthz").json()["in_flight"] < 6:  # One runs, five wait for the one inference slot.
        assert time.monotonic() < deadline and not finished_at, "the six requests were not in flight together"
        time.sleep(0.02)
    terminated_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    for thread in threads:
        thread.join(timeout=120)
    returncode = server.process.wait(timeout=60)
    server.stop()
    assert [status for status, _ in results] == [200] * 6, results
    assert len({json.dumps(body) for _, body in results}) == 1
    assert max(finished_at) > terminated_at  # Some of them were still in flight when SIGTERM arrived.
    assert returncode == 0
    log = Path(server.log_path).read_text()
    assert "Shutting down" in log and "Finished server process" in log
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/healthz", timeout=2)


def test_worker_settings_round_trip_from_the_kzoo_command():
    import argparse
    import json

    from kzoo.commands.main import build_parser
    from kzoo.serve.command import worker_settings

    args = build_parser().parse_args(["serve", "saved_models/x", "--workers", "2", "--batch-wait-ms", "5"])
    settings = argparse.Namespace(**json.loads(worker_settings(args)))
    assert settings.workers == 2 and settings.batch_wait_ms == 5.0 and settings.bundle == "saved_models/x"
    assert not hasattr(settings, "handler")
