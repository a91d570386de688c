"""Load on `kzoo serve`: 2,000 requests from 32 concurrent clients, then 300 from one, per bundle, batched and not.

Two bundles, each served by its own `python -m kzoo.serve` process (ONNX Runtime,
default settings: one intra-op thread per call, as many calls at once as there are
CPU cores, access log off) on 127.0.0.1 only:

- a translator: `transformer_small` (the quickstart translator's shape) with a
  SentencePiece tokenizer trained on `numbers_en_de`; requests are one English
  number from the task's test split each, greedy, `max_new_tokens=16`. The model
  is untrained, so it never emits its end token and every request decodes all 16
  tokens: the work of a trained model on a 16-token target.
- a classifier: `classifier_small` (8 classes) with a WordPiece tokenizer trained
  on `language_id`; requests are one test sentence each.

Bundles are exported to a temporary folder unless `--translator` / `--classifier`
name existing ones. 32 asyncio clients (plain HTTP/1.1 over asyncio streams, one
keep-alive connection each, spread over 4 processes, so that the clients' CPU does
not set the pace) send requests until the count is
reached or `--max-seconds` pass, whichever is first, after 32 warm-up requests
that are not counted. Each bundle is served three times: with `--no-batching`, with
batching (the default), and with batching in two worker processes (`--workers 2`);
the ratio columns compare each with `--no-batching` at the same client count.
The report gives errors (any
status but 200, or a transport error), p50 and p99 latency, requests/s, and the
server's resident memory (psutil) after the warm-up, after the first thousand and
after the last thousand requests, with the growth from the first to the last
thousand. The clients run on the same two cores as the server, so requests/s is a
floor.

Example:
```
python -m benchmarks.serve                          # ~2-4 minutes on 2 cores (export included)
python -m benchmarks.serve --quick                  # 400 requests per bundle
python -m benchmarks.serve --markdown docs/benchmarks.md
python -m benchmarks.serve --translator saved_models/translator --classifier saved_models/language_id
```
"""

import argparse
import asyncio
import datetime
import itertools
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "serve"
HOST = "127.0.0.1"  # Loopback only: this script never talks to another address.
REPOSITORY = Path(__file__).resolve().parents[1]
WARMUP = 32
TRANSLATION_NEW_TOKENS = 16
# Server options of each setting; "no batching" is the reference of the ratio columns.
SETTINGS = {"no batching": ("--no-batching",), "batched": (), "batched, 2 workers": ("--workers", "2")}
MIXED_SETTINGS = ("no batching", "batched")
SHORT_NEW_TOKENS = 4
LONG_NEW_TOKENS = 32  # The benchmark translator's max_length: the longest request it takes.
MIXED_CLIENTS = 8


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _pack(rows, start, end):
    import numpy as np

    rows = [[start] + list(row) + [end] for row in rows]
    ids = np.zeros((len(rows), max(map(len, rows))), "int32")
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids, (ids != 0).astype("int32")


def export_bundles(folder, say=print):
    """Exports the translator and the classifier (ONNX only) under `folder`; returns their paths and test texts."""
    import keras
    import numpy as np

    import kzoo
    import kzoo.data
    from export.bundle import ExportOptions, export_bundle

    folder = Path(folder)
    keras.utils.set_random_seed(0)
    translation = kzoo.data.load_task("numbers_en_de")
    tokenizer = kzoo.data.train_task_tokenizer(translation)
    tokenizer.save(folder / "translator_tokenizer")
    model = kzoo.create("transformer_small", vocabulary_size=tokenizer.vocabulary_size)
    ids, mask = _pack(tokenizer.encode([s for s, _ in translation.test[:4]]), tokenizer.start_id, tokenizer.end_id)
    special = {"pad": 0, "unknown": 1, "start": 2, "end": 3, "mask": 4}
    say("exporting the translator")
    export_bundle(model, folder / "translator", {"encoder_token_ids": ids, "encoder_padding_mask": mask}, ExportOptions(formats=("onnx",),
                  special_tokens=special, task={"name": translation.name, "kind": "translation"},
                  tokenizer_dir=folder / "translator_tokenizer", max_new_tokens=4, max_length=32))

    language = kzoo.data.load_task("language_id")
    tokenizer = kzoo.data.train_task_tokenizer(language, "word_piece")
    tokenizer.save(folder / "classifier_tokenizer")
    model = kzoo.create("classifier_small", vocabulary_size=tokenizer.vocabulary_size, max_sequence_length=64,
                        num_classes=len(language.label_names))
    ids, mask = _pack(tokenizer.encode([t for t, _ in language.test[:8]]), tokenizer.start_id, tokenizer.end_id)
    say("exporting the classifier")
    export_bundle(model, folder / "classifier", {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": mask},
                  ExportOptions(formats=("onnx",), special_tokens=special,
                  task={"name": language.name, "kind": "classification", "label_names": list(language.label_names)},
                  tokenizer_dir=folder / "classifier_tokenizer"))
    return folder / "translator", folder / "classifier"


def request_texts():
    import kzoo.data

    return ([source for source, _ in kzoo.data.load_task("numbers_en_de").test],
            [text for text, _ in kzoo.data.load_task("language_id").test])


class _Server:
    def __init__(self, bundle, log_path, options=()):
        self.port = _free_port()
        self.url = f"http://{HOST}:{self.port}"
        env = dict(os.environ)
        env.pop("KZOO_API_KEY", None)
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kzoo.serve", str(bundle), "--host", HOST, "--port", str(self.port), "--no-access-log",
             *options],
            cwd=REPOSITORY, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout=120):
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with status {self.process.returncode}; see {self.log.name}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /healthz within {timeout} s; see {self.log.name}")

    def _processes(self):
        """The server and, with --workers, its worker processes."""
        import psutil

        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def rss(self):
        return sum(process.memory_info().rss for process in self._processes())

    def cpu_seconds(self):
        return sum(process.cpu_times().user + process.cpu_times().system for process in self._processes())

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


async def _post(reader, writer, path, payload):
    """One HTTP/1.1 POST on a keep-alive connection; returns (status, body bytes).

    A plain asyncio client: httpx spends several times the server's CPU per
    request, and the clients share the server's cores, so a lighter client lets
    the server, not the client, set the pace.
    """
    writer.write(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                 % (path.encode(), HOST.encode(), len(payload), payload))
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    length = int(next((v for k, v in headers.items() if k.strip().lower() == "content-length"), "0"))
    return status, await reader.readexactly(length)


async def _client_loop(url, path, bodies, count, clients, deadline, done):
    """`clients` concurrent keep-alive connections sending `count` requests in all; returns (latencies, errors)."""
    import json

    port = int(url.rsplit(":", 1)[1])
    payloads = [json.dumps(body).encode() for body in bodies]
    latencies, errors = [], []
    sent = 0

    async def client():
        nonlocal sent
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while sent < count and time.time() < deadline:
                index = sent
                sent += 1
                started = time.perf_counter()
                try:
                    status, body = await _post(reader, writer, path, payloads[index % len(payloads)])
                    if status != 200:
                        errors.append(f"{status}: {body[:120]!r}")
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    errors.append(repr(error))
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                latencies.append(time.perf_counter() - started)
                with done.get_lock():
                    done.value += 1
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


def _client_process(url, path, bodies, count, clients, max_seconds, go, done, results):
    """One client process: waits for `go`, runs its clients, puts (latencies, errors, CPU seconds) on `results`."""
    go.wait()
    cpu = time.process_time()
    latencies, errors = asyncio.run(_client_loop(url, path, bodies, count, clients, time.time() + max_seconds, done))
    results.put((latencies, errors, time.process_time() - cpu))


def _load(server, path, bodies, total, clients, processes, max_seconds):
    """`total` requests from `clients` concurrent clients spread over `processes` client processes.

    Spread over a few processes, the clients keep the server busy. Returns latencies, errors,
    RSS samples (warm, after half, after all), elapsed seconds and CPU seconds.
    """
    import multiprocessing
    import queue

    import httpx

    context = multiprocessing.get_context("spawn")  # This process may hold TensorFlow's threads: no fork.
    go, done, results = context.Event(), context.Value("i", 0), context.Queue()
    per_process = [total // processes + (i < total % processes) for i in range(processes)]
    per_clients = [clients // processes + (i < clients % processes) for i in range(processes)]
    workers = [
        context.Process(target=_client_process, args=(server.url, path, bodies, n, c, max_seconds, go, done, results))
        for n, c in zip(per_process, per_clients) if n and c
    ]
    for worker in workers:
        worker.start()
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for body in bodies[:WARMUP]:
            http.post(path, json=body)
    rss = {"warm": server.rss()}
    time.sleep(1.0)  # The client processes start meanwhile.
    started, server_cpu = time.perf_counter(), server.cpu_seconds()
    go.set()
    half = total // 2
    collected = []
    while len(collected) < len(workers):
        if half not in rss and done.value >= half:
            rss[half] = server.rss()
        try:
            collected.append(results.get(timeout=0.01))
        except queue.Empty:
            if not any(worker.is_alive() for worker in workers) and results.empty():
                break
    elapsed = time.perf_counter() - started
    rss[total] = server.rss()
    cpu = {"server": server.cpu_seconds() - server_cpu, "client": sum(c for _, _, c in collected)}
    for worker in workers:
        worker.join(timeout=30)
    latencies = [value for lat, _, _ in collected for value in lat]
    errors = [value for _, err, _ in collected for value in err]
    missing = len(workers) - len(collected)
    if missing:
        errors.append(f"{missing} client process(es) died")
    return latencies, errors, rss, elapsed, cpu


def _percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def run_one(name, bundle, path, bodies, total, clients, processes, max_seconds, log_folder, setting="batched"):
    server = _Server(bundle, Path(log_folder) / f"{name}-{setting}-{clients}.log", SETTINGS[setting])
    try:
        server.wait_ready()
        latencies, errors, rss, elapsed, cpu = _load(server, path, bodies, total, clients, processes, max_seconds)
    finally:
        server.stop()
    half = total // 2
    first, last = rss.get(half), rss.get(total)
    return {
        "bundle": name,
        "setting": setting,
        "clients": clients,
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:3],
        "p50_ms": 1000 * _percentile(latencies, 50),
        "p99_ms": 1000 * _percentile(latencies, 99),
        "requests_per_s": len(latencies) / elapsed,
        "seconds": elapsed,
        "server_cpu_ms": 1000 * cpu["server"] / max(1, len(latencies)),
        "client_cpu_ms": 1000 * cpu["client"] / max(1, len(latencies)),
        "rss_warm_mb": rss["warm"] / 2**20,
        "rss_first_mb": first / 2**20 if first else float("nan"),
        "rss_last_mb": last / 2**20 if last else float("nan"),
        "rss_growth_pct": 100 * (last - first) / first if first and last else float("nan"),
        "exit_status": server.process.returncode,
    }


def run_mixed(bundle, sources, setting, clients, total, log_folder):
    """Short requests' latency alone, then beside long ones: the head-of-line blocking that batching must avoid.

    `clients` clients send `total` short requests (greedy, `SHORT_NEW_TOKENS` tokens)
    alone; then the same beside `clients` clients that keep sending long requests
    (`LONG_NEW_TOKENS`, the bundle's limit). Returns the short requests' p50 and p99 in both phases.
    """
    import multiprocessing

    short = [{"texts": [text], "max_new_tokens": SHORT_NEW_TOKENS} for text in sources]
    long = [{"texts": [text], "max_new_tokens": LONG_NEW_TOKENS} for text in sources]
    server = _Server(bundle, Path(log_folder) / f"mixed-{setting}.log", SETTINGS[setting])
    try:
        server.wait_ready()
        alone = _load(server, "/v1/translate", short, total, clients, 1, 300)[0]
        context = multiprocessing.get_context("spawn")
        go, done, results = context.Event(), context.Value("i", 0), context.Queue()
        background = context.Process(target=_client_process, args=(
            server.url, "/v1/translate", long, 10**9, clients, 600, go, done, results))
        background.start()
        go.set()
        time.sleep(2.0)  # The long requests fill the server first.
        beside = _load(server, "/v1/translate", short, total, clients, 1, 300)[0]
        background.terminate()
        background.join()
    finally:
        server.stop()
    return {"setting": setting, "alone_p50_ms": 1000 * _percentile(alone, 50), "alone_p99_ms": 1000 * _percentile(alone, 99),
            "beside_p50_ms": 1000 * _percentile(beside, 50), "beside_p99_ms": 1000 * _percentile(beside, 99)}


def mixed_markdown(rows, clients, total):
    lines = [
        "",
        f"Short requests beside long ones (translator): {clients} clients send {total} short requests "
        f"({SHORT_NEW_TOKENS} new tokens) alone, then again while {clients} more clients keep sending long ones "
        f"({LONG_NEW_TOKENS} new tokens, the bundle's limit). Goal: the short requests' p99 beside the long ones "
        "within 2x of their p99 alone.",
        "",
        "| server | short p50 alone (ms) | short p99 alone (ms) | short p50 beside long (ms) | short p99 beside long (ms) "
        "| p99 ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['alone_p50_ms']:.1f} | {r['alone_p99_ms']:.1f} | {r['beside_p50_ms']:.1f} | "
                     f"{r['beside_p99_ms']:.1f} | {r['beside_p99_ms'] / r['alone_p99_ms']:.2f}x |")
    return "\n".join(lines)


def _loadavg():
    try:
        return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())
    except OSError:
        return "n/a"


def _machine():
    import fastapi
    import onnxruntime
    import uvicorn

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.lower().startswith("model name")), cpu)
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": f"{cpu}, {usable} usable ({os.cpu_count()} logical) cores",
        "versions": f"Python {platform.python_version()}, ONNX Runtime {onnxruntime.__version__}, "
                    f"FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__}",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def markdown(rows, args, machine, load_before, load_after, command):
    lines = [
        "## Serving: `kzoo serve` under load (loopback HTTP)",
        "",
        f"{args.requests:,} requests per bundle from {args.clients} concurrent clients (plain asyncio HTTP/1.1, keep-alive; "
        f"{args.client_processes} client processes, as one event loop cannot keep up with the server), "
        f"after {WARMUP} warm-up requests; one text per request; then {args.single_client_requests} requests from "
        "one client. Each three times: without batching, batched, and batched in two worker processes. Translator: `transformer_small` (untrained, "
        f"so every request decodes all {TRANSLATION_NEW_TOKENS} tokens; greedy), SentencePiece on `numbers_en_de`. "
        "Classifier: `classifier_small` (8 classes, 64 positions), WordPiece on `language_id`. Each bundle is served by "
        "its own `python -m kzoo.serve` process with default settings (ONNX Runtime fp32, one intra-op thread per "
        "call, calls in parallel up to the core count). Server and clients share the same cores. Memory is the server "
        "process's resident set (psutil).",
        "",
        "```",
        command,
        "```",
        "",
        f"- CPU: {machine['cpu']}",
        f"- {machine['versions']}",
        f"- Measured {machine['date']}; load average (1/5/15 min) {load_before} before, {load_after} after. "
        "Other jobs shared the machine; latency on an idle machine is lower.",
        "",
        "| bundle | server | clients | requests | errors | p50 (ms) | p99 (ms) | requests/s | requests/s vs no batching "
        "| p50 vs no batching | server CPU ms/req | client CPU ms/req | RSS warm (MiB) | RSS growth | exit |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    reference = {(r["bundle"], r["clients"]): r for r in rows if r["setting"] == "no batching"}
    for r in rows:
        base = reference.get((r["bundle"], r["clients"]))
        speed = f"{r['requests_per_s'] / base['requests_per_s']:.2f}x" if base else "n/a"
        p50 = f"{r['p50_ms'] / base['p50_ms']:.2f}x" if base else "n/a"
        lines.append(
            f"| {r['bundle']} | {r['setting']} | {r['clients']} | {r['requests']:,} | {r['errors']} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {r['requests_per_s']:.0f} | {speed} | {p50} | {r['server_cpu_ms']:.1f} | "
            f"{r['client_cpu_ms']:.1f} | {r['rss_warm_mb']:.0f} | {r['rss_growth_pct']:+.1f}% | {r['exit_status']} |"
        )
    lines += [
        "",
        "\"no batching\" runs one request per backend call (`--no-batching`); \"batched\" is the default: the "
        "classifier's requests that arrive while a call runs share the next one (`--batch-rows 32 --batch-wait-ms 2`), "
        "the translator's greedy requests share decode steps (continuous batching); \"2 workers\" runs two such "
        "server processes on the port (`--workers 2`; memory and CPU are summed over the processes). "
        "The ratio columns divide by \"no batching\" at the same client count, in this run. "
        "RSS growth is from the RSS after the first half of the requests to the RSS after all of them. \"exit\" is the "
        "server's status after SIGTERM at the end of the run (0: drained and stopped cleanly). Latency includes the "
        f"time a request waits for one of the server's {os.cpu_count()} inference slots ({args.clients} clients share "
        "them) and for the client's own event loop; the clients run on the same cores (client CPU column), so "
        "requests/s is a floor. One run per bundle: on a shared machine the numbers move with the other jobs' load.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--translator", help="an existing translation bundle (default: export a fresh one)")
    parser.add_argument("--classifier", help="an existing text-classification bundle (default: export a fresh one)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per bundle (default 2000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="processes the clients are spread over (default 4; one event loop cannot keep up)")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="stop a bundle's run after this long (default 300)")
    parser.add_argument("--single-client-requests", type=int, default=300,
                        help="requests of the one-client runs (default 300)")
    parser.add_argument("--quick", action="store_true", help="400 requests per bundle (100 from one client)")
    parser.add_argument("--markdown", help="write this section into that markdown file (e.g. docs/benchmarks.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests = min(args.requests, 400)
        args.single_client_requests = min(args.single_client_requests, 100)
    if args.requests < 2 or args.clients < 1 or not 1 <= args.client_processes <= args.clients:
        parser.error("--requests must be at least 2, --clients at least 1, --client-processes in 1..clients")
    command = "python -m benchmarks.serve" + (" --quick" if args.quick else "")
    load_before = _loadavg()
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="kzoo-serve-bench-") as scratch:
        translator, classifier = args.translator, args.classifier
        if not (translator and classifier):
            exported = export_bundles(scratch, say=lambda m: print(f"[serve] {m}", flush=True))
            translator, classifier = translator or exported[0], classifier or exported[1]
        sources, sentences = request_texts()
        runs = [
            ("translator", translator, "/v1/translate",
             [{"texts": [text], "max_new_tokens": TRANSLATION_NEW_TOKENS} for text in sources]),
            ("classifier", classifier, "/v1/classify", [{"texts": [text]} for text in sentences]),
        ]
        rows = []
        for (name, bundle, path, bodies), setting, clients in itertools.product(runs, SETTINGS, (args.clients, 1)):
            total = args.requests if clients > 1 else args.single_client_requests
            print(f"[serve] {name}, {setting}: {total} requests from {clients} client(s) ...", flush=True)
            rows.append(run_one(name, bundle, path, bodies, total, clients, min(clients, args.client_processes),
                                args.max_seconds, scratch, setting))
            if rows[-1]["errors"]:
                print(f"[serve] {name}: errors, e.g. {rows[-1]['error_examples']}", flush=True)
        mixed_total = max(50, args.single_client_requests)
        mixed = []
        for setting in MIXED_SETTINGS:
            print(f"[serve] translator, {setting}: short requests alone and beside long ones ...", flush=True)
            mixed.append(run_mixed(translator, sources, setting, MIXED_CLIENTS, mixed_total, scratch))
    machine = _machine()
    text = markdown(rows, args, machine, load_before, _loadavg(), command) + "\n" + mixed_markdown(
        mixed, MIXED_CLIENTS, mixed_total)
    print(text)
    print(f"[serve] took {time.time() - started:.0f} s.")
    if args.markdown:
        from benchmarks.run_all import write_section

        write_section(args.markdown, SECTION, text)
        print(f"[serve] wrote section '{SECTION}' of {args.markdown}.")
    return rows


if __name__ == "__main__":
    main()
    sys.exit(0)
