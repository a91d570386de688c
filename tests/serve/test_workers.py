"""`kzoo serve --workers N` and /metrics: every worker counts, a dead worker is replaced, SIGTERM stops them all."""

import re
import signal
import time

import httpx
import psutil
import pytest

from tests.runtime import bundles as test_bundles
from tests.serve.servers import Server


def _metric(text, name, **labels):
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" ([0-9.e+]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


@pytest.fixture(scope="module")
def two_workers(built, tmp_path_factory):
    server = Server(built["classifier"][0], tmp_path_factory.mktemp("workers") / "workers.log", "--workers", "2",
                    "--no-access-log")
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def _workers(server):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        children = [c for c in psutil.Process(server.process.pid).children() if "spawn_main" in " ".join(c.cmdline())]
        if len(children) == 2:
            return children
        time.sleep(0.2)
    raise AssertionError(f"expected 2 workers, found {len(children)}")


def test_metrics_count_the_requests_of_every_worker(two_workers):
    before = httpx.get(two_workers.url + "/metrics").text
    texts = {"texts": test_bundles.CLASSIFICATION_TEXTS}
    with httpx.Client(base_url=two_workers.url, timeout=60) as client:
        for _ in range(3):  # New connections: the kernel spreads them over the workers.
            with httpx.Client(base_url=two_workers.url, timeout=60) as fresh:
                assert fresh.post("/v1/classify", json=texts).status_code == 200
        for _ in range(9):
            assert client.post("/v1/classify", json=texts).status_code == 200
        assert client.post("/v1/classify", json={"texts": [""]}).status_code == 422
        text = client.get("/metrics").text
    labels = {"route": "/v1/classify", "status": "200"}
    assert _metric(text, "kzoo_requests_total", **labels) - _metric(before, "kzoo_requests_total", **labels) == 12
    assert _metric(text, "kzoo_requests_total", route="/v1/classify", status="422") >= 1
    assert _metric(text, "kzoo_request_seconds_count", route="/v1/classify") >= 13
    assert _metric(text, "kzoo_batch_rows_sum") >= 12 * len(test_bundles.CLASSIFICATION_TEXTS)
    assert "kzoo_queue_depth" in text


def test_a_dead_worker_is_replaced(two_workers):
    victim = _workers(two_workers)[0]
    victim.kill()
    victim.wait(timeout=10)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = _workers(two_workers)
        if victim.pid not in [w.pid for w in workers]:
            break
        time.sleep(0.2)
    assert victim.pid not in [w.pid for w in _workers(two_workers)]
    for _ in range(6):
        with httpx.Client(base_url=two_workers.url, timeout=60) as fresh:
            assert fresh.post("/v1/classify", json={"texts": ["great"]}).status_code == 200


def test_sigterm_stops_every_worker(built, tmp_path):
    server = Server(built["tagger"][0], tmp_path / "stop.log", "--workers", "2").wait_ready()
    workers = _workers(server)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0
    server.log.close()
    assert not any(worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE for worker in workers)
