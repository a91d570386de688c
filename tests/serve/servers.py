"""A `python -m kzoo.serve` process on a free loopback port, for the server tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parents[2]
API_KEY = "kzoo-test-7f3a9c"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`python -m kzoo.serve BUNDLE` in a subprocess on 127.0.0.1, its log in a file."""

    def __init__(self, bundle, log_path, *options, api_key=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("KZOO_API_KEY", None)
        if api_key:
            env["KZOO_API_KEY"] = api_key
        command = [sys.executable, "-m", "kzoo.serve", str(bundle), "--port", str(self.port), *options]
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(command, cwd=REPOSITORY, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{Path(self.log_path).read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout} s:\n{Path(self.log_path).read_text()[-3000:]}")

    def post(self, path, body=None, content=None, headers=AUTH, **kwargs):
        return httpx.post(self.url + path, json=body, content=content, headers=headers, timeout=60, **kwargs)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
