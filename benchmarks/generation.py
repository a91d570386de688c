"""Generation speed: kzoo's KV cache vs no cache, and kzoo `CausalLM` vs keras-hub `GPT2CausalLM`.

One tiny GPT-2-style model (4 layers, width 256, 4 heads, feed-forward 1024,
vocabulary 5,000, 512 positions, float32, dropout 0) is built as a keras-hub
`GPT2Backbone` with random weights and imported into a kzoo `CausalLM`
(`kzoo.checkpoints.keras_hub`), so both libraries run the same weights and
greedy decoding must give the same tokens (checked on every length). Prompts are
16 random tokens; no end token, so every call generates exactly `max_new_tokens`.
Tokens/s counts new tokens of every batch row (not of every beam).

Tables:

1. kzoo `generate(..., use_cache=True)` vs `use_cache=False` (the full forward pass
   over the whole prefix every step), greedy and beam-5, at 32, 128 and 256 new
   tokens, and their ratio per length.
2. kzoo `generate` (also with `jit_compile=True`) vs keras-hub
   `GPT2CausalLM.generate` (greedy sampler, `stop_token_ids=None`, its
   `jit_compile` default, and `jit_compile=True`). Without a preprocessor keras-hub
   generates until its padded `token_ids` buffer is full, so it gets a buffer of
   16 + N positions whose first 16 are the prompt (`padding_mask` 1 there).
3. Where the time goes (in this process's CPU time, steadier than wall time on a
   shared machine): per-step time of the bare decode step (kzoo `decode_step`,
   keras-hub `call_with_cache`, each + argmax in a `tf.while_loop`) against the
   whole sampler loop, and the per-call tracing/compile cost.

Tables 1 and 2 also give their ratios by CPU time.

Two timings per kzoo configuration, because kzoo's `generate` currently builds a
new `tf.function` on every call (so every call traces, and with `jit_compile=True`
XLA-compiles, again):

- "generate()": one whole `generate` call, tracing included, as a user sees it;
- "loop": the same compiled function `generate` built, called again with the same
  inputs (captured by wrapping `tf.function` during the first call), i.e. decoding
  alone, as a `generate` that reused its traced function would cost.

keras-hub keeps its compiled function between calls (per buffer shape), so its
first call (which traces) is reported apart and its rows are warm calls.

Each item's first call (the one that traces) is timed on its own; then the
repetitions are interleaved across all items, order reversed every other
repetition, so that load from other processes falls on all of them; from the
second repetition on, an item shorter than 0.5 s is called several times per
repetition (mean of those calls). Tables give medians over repetitions and the
min-max spread.

Example:
```
python -m benchmarks.generation                  # ~4.5 CPU-minutes (10 minutes wall on a busy 2-core machine)
python -m benchmarks.generation --quick          # ~1 CPU-minute: 1 repetition, 32 and 128 tokens, no keras-hub XLA
python -m benchmarks.generation --batch-size 8 --repetitions 5
python -m benchmarks.generation --markdown docs/benchmarks.md
```
"""

import argparse
import os
import statistics
import sys
import time

from benchmarks.run_all import load_average, machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SECTION = "generation"

CONFIG = dict(
    vocabulary_size=5000,
    num_layers=4,
    num_heads=4,
    hidden_dim=256,
    intermediate_dim=1024,
    max_sequence_length=512,
    prompt_length=16,
    num_beams=5,
)

# (new-token lengths, timed repetitions, keras-hub with jit_compile=True too)
FULL = ((32, 128, 256), 3, True)
QUICK = ((32, 128), 1, False)
# After the first repetition, an item shorter than MIN_SECONDS is called up to MAX_CALLS times per repetition
# (its time is the mean of those calls).
MIN_SECONDS = 0.5
MAX_CALLS = 8


def build_models(seed=0):
    """(kzoo `CausalLM`, keras-hub `GPT2CausalLM` with the greedy sampler, same_weights: bool)."""
    import keras
    import keras_hub

    from kzoo.models import CausalLM, DecoderBackbone

    c = CONFIG
    keras.utils.set_random_seed(seed)
    reference = keras_hub.models.GPT2Backbone(
        vocabulary_size=c["vocabulary_size"],
        num_layers=c["num_layers"],
        num_heads=c["num_heads"],
        hidden_dim=c["hidden_dim"],
        intermediate_dim=c["intermediate_dim"],
        max_sequence_length=c["max_sequence_length"],
        dropout=0.0,
    )
    try:
        from kzoo.checkpoints.keras_hub import import_keras_hub
    except ImportError:  # An older tree without the importer: same shapes, different random weights.
        kzoo_lm = CausalLM(
            DecoderBackbone(
                c["vocabulary_size"], c["num_layers"], c["num_heads"], c["hidden_dim"], c["intermediate_dim"],
                max_sequence_length=c["max_sequence_length"], dropout=0.0,
            )
        )
        same_weights = False
    else:
        kzoo_lm = import_keras_hub(reference, task="causal_lm")
        same_weights = True
    hub_lm = keras_hub.models.GPT2CausalLM(backbone=reference, preprocessor=None)
    hub_lm.compile(sampler="greedy")
    return kzoo_lm, hub_lm, same_weights


def make_prompts(batch_size, seed=0):
    import numpy as np

    c = CONFIG
    ids = np.random.default_rng(seed).integers(1, c["vocabulary_size"], size=(batch_size, c["prompt_length"]))
    ids = ids.astype("int32")
    return {"token_ids": ids, "padding_mask": np.ones_like(ids)}


def keras_hub_inputs(prompts, max_new_tokens):
    """keras-hub's preprocessed form: the prompt right-padded to prompt + N positions."""
    import numpy as np

    ids = prompts["token_ids"]
    batch, length = ids.shape
    token_ids = np.zeros((batch, length + max_new_tokens), "int32")
    token_ids[:, :length] = ids
    padding_mask = np.zeros_like(token_ids)
    padding_mask[:, :length] = 1
    return {"token_ids": token_ids, "padding_mask": padding_mask}


class _Capture:
    """Wraps `tf.function` while `generate` runs, to get back the compiled function it built.

    `generate` builds `tf.function(run)` and calls it once; the wrapper records that
    function and its arguments, so the benchmark can call it again without tracing.
    """

    def __init__(self):
        self.created = 0
        self.function = None
        self.arguments = None

    def run(self, call):
        import tensorflow as tf

        original = tf.function

        def wrapped(*args, **kwargs):
            function = original(*args, **kwargs)
            self.created += 1

            def recorder(*call_args, **call_kwargs):
                self.function, self.arguments = function, (call_args, call_kwargs)
                return function(*call_args, **call_kwargs)

            return recorder

        tf.function = wrapped
        try:
            return call()
        finally:
            tf.function = original

    def replay(self):
        import numpy as np

        args, kwargs = self.arguments
        return np.asarray(self.function(*args, **kwargs))


def _timed(call):
    """(wall seconds, CPU seconds of this process, result) of `call()`.

    The CPU time counts only what this process ran, so it moves much less than the
    wall time when other processes take the cores; the greedy loops here keep about
    one core busy, so on an idle machine the two are close.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result




def _bare_decode_loop(step):
    """tf.function(token [B, 1], cache, start, steps) running `step` + argmax `steps` times, no sampler.

    `step(token, cache, index) -> (logits [B, V], cache)`. The argmax feeds the next
    step, so the logits (and the output projection) cannot be pruned.
    """
    import tensorflow as tf

    @tf.function
    def run(token, cache, start, steps):
        def body(i, token, cache):
            logits, cache = step(token, cache, start + i)
            return i + 1, tf.cast(tf.argmax(logits, axis=-1), token.dtype)[:, None], cache

        _, token, _ = tf.while_loop(lambda i, *unused: i < steps, body, (tf.constant(0), token, cache))
        return token

    return run


def measure(kzoo_lm, hub_lm, lengths, repetitions, batch_size=1, reference_jit=True, log=print):
    """Every timing, interleaved across items; returns (items, checks).

    `items` maps (implementation, strategy, new tokens, mode) to {"first" and
    "first_cpu": wall and CPU seconds of the call that traced (or None), "times" and
    "cpu_times": seconds per call in each repetition, "call", "tokens": new tokens
    per call (all rows)}; `checks` holds the token-equality and retracing checks.
    """
    import keras_hub
    import numpy as np
    import tensorflow as tf

    from kzoo.generation import generate

    c = CONFIG
    prompts = make_prompts(batch_size)
    beam = dict(strategy="beam", num_beams=c["num_beams"])
    items, checks = {}, {}

    def add(key, n, call, first=(None, None)):
        items[key] = {
            "first": first[0], "first_cpu": first[1], "times": [], "cpu_times": [], "call": call, "tokens": n * batch_size
        }

    def add_kzoo(key, n, **kwargs):
        """Time one generate() call (traces), keep its compiled function for the repetitions."""
        capture = _Capture()
        *first, tokens = _timed(lambda: capture.run(lambda: generate(kzoo_lm, prompts, n, **kwargs)))
        # If generate ever stops building its function inside the call, repeat whole calls instead.
        call = capture.replay if capture.function is not None else (lambda: generate(kzoo_lm, prompts, n, **kwargs))
        add(key, n, call, first)
        log(f"  first call {' '.join(map(str, key))}: {first[0]:.2f} s")
        return tokens

    # Warm TensorFlow up (thread pools, oneDNN primitives) so that the first timed call is not penalized,
    # and check whether two identical generate() calls build (and so trace) a tf.function each.
    capture = _Capture()
    for _ in range(2):
        capture.run(lambda: generate(kzoo_lm, prompts, 4))
    checks["kzoo_functions_built_by_2_calls"] = capture.created
    checks["keras_hub_default_jit_compile"] = bool(hub_lm.jit_compile)
    hub_models = [("default", hub_lm)]
    if reference_jit:
        hub_jit = keras_hub.models.GPT2CausalLM(backbone=hub_lm.backbone, preprocessor=None)
        hub_jit.compile(sampler="greedy", jit_compile=True)
        hub_models.append(("jit", hub_jit))

    for n in lengths:
        greedy = None
        for strategy, kwargs in (("greedy", {}), ("beam", beam)):
            cached = add_kzoo(("kzoo", strategy, n, "cache"), n, **kwargs)
            uncached = add_kzoo(("kzoo", strategy, n, "no cache"), n, use_cache=False, **kwargs)
            checks[("cache == no cache", strategy, n)] = bool(np.array_equal(cached, uncached))
            greedy = cached if strategy == "greedy" else greedy
        # Whole calls as a user makes them (generate reuses its traced loop per model and options).
        add(("kzoo", "greedy", n, "generate()"), n, lambda n=n: generate(kzoo_lm, prompts, n))
        jitted = add_kzoo(("kzoo", "greedy", n, "jit"), n, jit_compile=True)
        checks[("jit == no jit", "greedy", n)] = bool(np.array_equal(jitted, greedy))
        hub_inputs = keras_hub_inputs(prompts, n)
        for mode, model in hub_models:
            call = lambda model=model, hub_inputs=hub_inputs: model.generate(hub_inputs, stop_token_ids=None)  # noqa: E731
            *first, output = _timed(call)
            add(("keras-hub", "greedy", n, mode), n, call, first)
            log(f"  first call keras-hub greedy {n} {mode}: {first[0]:.2f} s")
            hub_tokens = np.asarray(output["token_ids"])[:, c["prompt_length"] :]
            checks[("kzoo == keras-hub", mode, n)] = bool(np.array_equal(hub_tokens, greedy))

    # The bare decode steps, at the longest length: how much of the loop is the model step.
    n = max(lengths)
    total = c["prompt_length"] + n
    token = tf.constant(prompts["token_ids"][:, -1:])
    start, steps = tf.constant(c["prompt_length"] - 1), tf.constant(n)
    kzoo_cache = kzoo_lm.start_decoding({"token_ids": tf.zeros((batch_size, total), "int32")}, total)  # Per layer.

    def kzoo_step(token, cache, index):
        logits, state = kzoo_lm.decode_step(token, cache, index)
        return logits[:, -1, :], state

    backbone = hub_lm.backbone
    head_dim = backbone.hidden_dim // backbone.num_heads
    # keras-hub's cache layout, as GPT2CausalLM._build_cache makes it: [B, layers, 2, S, H, K].
    hub_cache = tf.zeros((batch_size, backbone.num_layers, 2, total, backbone.num_heads, head_dim))

    def hub_step(token, cache, index):
        logits, _, cache = hub_lm.call_with_cache(token, cache, index)
        return logits[:, -1, :], cache

    for name, step, cache in (("kzoo", kzoo_step, kzoo_cache), ("keras-hub", hub_step, hub_cache)):
        loop = _bare_decode_loop(step)
        call = lambda loop=loop, cache=cache: np.asarray(loop(token, cache, start, steps))  # noqa: E731
        *first, _ = _timed(call)
        add((name, "decode step", n, "bare"), n, call, first)

    keys = list(items)
    calls = {key: 1 for key in keys}
    for repetition in range(repetitions):
        started = time.perf_counter()
        for key in keys if repetition % 2 == 0 else keys[::-1]:
            call = items[key]["call"]
            wall, cpu, _ = _timed(lambda: [call() for _ in range(calls[key])])
            items[key]["times"].append(wall / calls[key])
            items[key]["cpu_times"].append(cpu / calls[key])
        if repetition == 0:  # Short items: several calls per repetition, so that one stall weighs less.
            calls = {key: max(1, min(MAX_CALLS, round(MIN_SECONDS / items[key]["times"][0]))) for key in keys}
        log(f"  repetition {repetition + 1}/{repetitions}: {time.perf_counter() - started:.0f} s (load {load_average()})")
    return items, checks


def _rate(item, clock="times"):
    """Median tokens/s by wall time, or by this process's CPU time with clock="cpu_times"."""
    return item["tokens"] / statistics.median(item[clock])


def _spread(item, clock="times"):
    times = item[clock]
    return (max(times) - min(times)) / statistics.median(times)


def cache_rows(items, checks, lengths):
    """Table 1: cached vs uncached kzoo decoding per strategy and length."""
    rows = []
    for strategy in ("greedy", "beam"):
        for n in lengths:
            cached, uncached = items[("kzoo", strategy, n, "cache")], items[("kzoo", strategy, n, "no cache")]
            rows.append(
                {
                    "strategy": strategy if strategy == "greedy" else f"beam-{CONFIG['num_beams']}",
                    "new_tokens": n,
                    "cached_tokens_per_s": _rate(cached),
                    "uncached_tokens_per_s": _rate(uncached),
                    "ratio": _rate(cached) / _rate(uncached),
                    "cpu_ratio": _rate(cached, "cpu_times") / _rate(uncached, "cpu_times"),
                    "cached_first_call_s": cached["first"],
                    "uncached_first_call_s": uncached["first"],
                    "first_call_ratio": uncached["first"] / cached["first"],
                    "same_tokens": checks[("cache == no cache", strategy, n)],
                    "spread": max(_spread(cached), _spread(uncached)),
                }
            )
    return rows


VERSUS = (  # (item, label, how it is timed)
    (("kzoo", "generate()"), "kzoo `generate()`", "whole generate() calls"),
    (("kzoo", "cache"), "kzoo `generate()` loop", "traced once, called again"),
    (("kzoo", "jit"), "kzoo `generate(jit_compile=True)`", "one call (each compiles)"),
    (("kzoo", "jit"), "kzoo `generate(jit_compile=True)` loop", "compiled once, called again"),
    (("keras-hub", "default"), "keras-hub `generate()`, jit_compile default", "warm calls"),
    (("keras-hub", "jit"), "keras-hub `generate()`, jit_compile=True", "warm calls"),
)
REFERENCE = ("keras-hub", "default")


def versus_rows(items, checks, lengths):
    """Table 2: kzoo vs keras-hub, greedy; ratio against keras-hub's `generate()` with its defaults."""
    rows = []
    for n in lengths:
        reference = items[(REFERENCE[0], "greedy", n, REFERENCE[1])]
        for (implementation, mode), label, timing in VERSUS:
            item = items.get((implementation, "greedy", n, mode))
            if item is None:
                continue
            row = {"new_tokens": n, "implementation": label, "timing": timing, "first_call_s": None}
            row.update(tokens_per_s_min=None, tokens_per_s_max=None, pairwise_ratio_min=None, pairwise_ratio_max=None)
            if timing.startswith("one call"):
                row["tokens_per_s"] = item["tokens"] / item["first"]
                cpu_rate = item["tokens"] / item["first_cpu"]
            else:
                cpu_rate = _rate(item, "cpu_times")
                row["tokens_per_s"] = _rate(item)
                row["tokens_per_s_min"] = item["tokens"] / max(item["times"])
                row["tokens_per_s_max"] = item["tokens"] / min(item["times"])
                if item is not reference:
                    pairwise = [b / a for a, b in zip(item["times"], reference["times"])]
                    row.update(pairwise_ratio_min=min(pairwise), pairwise_ratio_max=max(pairwise))
            if implementation == "keras-hub":
                row["first_call_s"] = item["first"]
            if label == "keras-hub `generate()`, jit_compile default":
                row["implementation"] += f" ({checks['keras_hub_default_jit_compile']})"
            row["ratio_vs_keras_hub"] = row["tokens_per_s"] / _rate(reference)
            row["cpu_ratio_vs_keras_hub"] = cpu_rate / _rate(reference, "cpu_times")
            rows.append(row)
    return rows


def profile_rows(items, lengths):
    """Table 3: where the CPU time of a greedy `generate()` goes, at the longest length (None: not measured)."""
    n = max(lengths)
    median = statistics.median

    def per_token_ms(implementation, strategy, mode):
        item = items.get((implementation, strategy, n, mode))
        return None if item is None else 1000 * median(item["cpu_times"]) / item["tokens"]

    def overhead_s(implementation, mode):
        item = items.get((implementation, "greedy", n, mode))
        return None if item is None else item["first_cpu"] - median(item["cpu_times"])

    def difference(a, b):
        return None if a is None or b is None else a - b

    bare = {name: per_token_ms(name, "decode step", "bare") for name in ("kzoo", "keras-hub")}
    loop = {"kzoo": per_token_ms("kzoo", "greedy", "cache"), "keras-hub": per_token_ms("keras-hub", "greedy", "default")}
    return [
        {"part": "decode step + argmax, bare `tf.while_loop` (ms/token)", **bare},
        {
            "part": "greedy loop: prefill + sampler + steps (ms/token)",
            **loop,
            "note": "kzoo: traced once; keras-hub: warm `generate()`",
        },
        {
            "part": "of which prefill + sampler (ms/token)",
            "kzoo": difference(loop["kzoo"], bare["kzoo"]),
            "keras-hub": difference(loop["keras-hub"], bare["keras-hub"]),
            "note": "loop minus bare steps",
        },
        {
            "part": "whole `generate()` call (ms/token)",
            "kzoo": per_token_ms("kzoo", "greedy", "generate()"),
            "keras-hub": loop["keras-hub"],
            "note": "kzoo reuses its traced loop",
        },
        {
            "part": "tracing per `generate()` call (s)",
            "kzoo": overhead_s("kzoo", "cache"),
            "keras-hub": overhead_s("keras-hub", "default"),
            "note": "first call minus warm loop; kzoo: every call, keras-hub: once per buffer shape",
        },
        {
            "part": "XLA greedy loop (ms/token)",
            "kzoo": per_token_ms("kzoo", "greedy", "jit"),
            "keras-hub": per_token_ms("keras-hub", "greedy", "jit"),
            "note": "compiled once, called again",
        },
        {
            "part": "XLA tracing + compile per `generate()` call (s)",
            "kzoo": overhead_s("kzoo", "jit"),
            "keras-hub": overhead_s("keras-hub", "jit"),
            "note": "kzoo: every call, keras-hub: once per buffer shape",
        },
    ]


def _table(header, body, markdown, align=None):
    body = [["" if cell is None else str(cell) for cell in cells] for cells in body]
    if markdown:
        align = align or ["---"] + ["---:"] * (len(header) - 1)
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
        lines.extend("| " + " | ".join(cells) + " |" for cells in body)
        return "\n".join(lines)
    widths = [max(len(cells[i]) for cells in [list(header)] + body) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    lines.extend("  ".join(c.ljust(w) for c, w in zip(cells, widths)) for cells in body)
    return "\n".join(lines)


def format_cache_table(rows, markdown=False):
    header = (
        "strategy", "new tokens", "cached tok/s", "uncached tok/s", "cached / uncached", "same, CPU time",
        "first call cached (s)", "first call uncached (s)", "first-call ratio", "same tokens",
    )
    body = [
        (
            row["strategy"], row["new_tokens"],
            f"{row['cached_tokens_per_s']:,.0f}", f"{row['uncached_tokens_per_s']:,.0f}",
            f"{row['ratio']:.1f}x", f"{row['cpu_ratio']:.1f}x",
            f"{row['cached_first_call_s']:.2f}", f"{row['uncached_first_call_s']:.2f}",
            f"{row['first_call_ratio']:.1f}x", "yes" if row["same_tokens"] else "no",
        )
        for row in rows
    ]
    return _table(header, body, markdown, ["---", "---:"] + ["---:"] * 7 + ["---"])


def format_versus_table(rows, markdown=False):
    header = (
        "new tokens", "implementation", "timed as", "tokens/s (median)", "min - max",
        "kzoo / keras-hub", "per-rep ratio min - max", "same, CPU time", "first call (s)",
    )
    body = []
    for row in rows:
        spread = pairwise = ""
        if row["tokens_per_s_min"] is not None:
            spread = f"{row['tokens_per_s_min']:,.0f} - {row['tokens_per_s_max']:,.0f}"
        if row["pairwise_ratio_min"] is not None:
            pairwise = f"{row['pairwise_ratio_min']:.2f} - {row['pairwise_ratio_max']:.2f}"
        body.append(
            (
                row["new_tokens"], row["implementation"], row["timing"], f"{row['tokens_per_s']:,.0f}", spread,
                f"{row['ratio_vs_keras_hub']:.2f}x", pairwise, f"{row['cpu_ratio_vs_keras_hub']:.2f}x",
                "" if row["first_call_s"] is None else f"{row['first_call_s']:.2f}",
            )
        )
    return _table(header, body, markdown, ["---:", "---", "---"] + ["---:"] * 6)


def format_profile_table(rows, markdown=False):
    header = ("part", "kzoo", "keras-hub", "note")
    def cell(value):
        return "n/a" if value is None else f"{value:.2f}"

    body = [(row["part"], cell(row["kzoo"]), cell(row["keras-hub"]), row.get("note", "")) for row in rows]
    return _table(header, body, markdown, ["---", "---:", "---:", "---"])


def _summary(cache, versus, items, checks, lengths, repetitions, same_weights):
    """Findings in words, from the numbers of this run."""
    n = max(lengths)
    lines = []
    for strategy in ("greedy", f"beam-{CONFIG['num_beams']}"):
        rows = [row for row in cache if row["strategy"] == strategy]
        lines.append(
            f"- Cache speed-up, {strategy}, at {', '.join(map(str, lengths))} new tokens: decoding loop "
            + " -> ".join(f"{row['ratio']:.1f}x" for row in rows)
            + " (by CPU time " + " -> ".join(f"{row['cpu_ratio']:.1f}x" for row in rows) + "); whole first calls "
            + " -> ".join(f"{row['first_call_ratio']:.1f}x" for row in rows) + "."
        )
    built = checks["kzoo_functions_built_by_2_calls"]
    lines.append(
        f"- kzoo `generate()` built {built} `tf.function`s in 2 identical calls"
        + (
            ", so every call traces (and with `jit_compile=True` XLA-compiles) again; the first-call columns are"
            " what every call costs today."
            if built >= 2
            else "."
        )
    )
    last = {row["implementation"]: row for row in versus if row["new_tokens"] == n}
    parts = [
        f"{label.replace('`', '')} {row['ratio_vs_keras_hub']:.2f}x (CPU time {row['cpu_ratio_vs_keras_hub']:.2f}x)"
        for label, row in last.items()
        if label.startswith("kzoo")
    ]
    lines.append(f"- kzoo / keras-hub (default `generate()`) at {n} new tokens: " + "; ".join(parts) + ".")
    xla = [last.get("kzoo `generate(jit_compile=True)` loop"), last.get("keras-hub `generate()`, jit_compile=True")]
    if None not in xla:
        lines.append(
            f"- XLA loop vs XLA loop at {n} new tokens: kzoo / keras-hub "
            f"{xla[0]['ratio_vs_keras_hub'] / xla[1]['ratio_vs_keras_hub']:.2f}x "
            f"(CPU time {xla[0]['cpu_ratio_vs_keras_hub'] / xla[1]['cpu_ratio_vs_keras_hub']:.2f}x)."
        )
    tokens = [checks[key] for key in checks if isinstance(key, tuple) and key[0] == "kzoo == keras-hub"]
    jit = [checks[key] for key in checks if isinstance(key, tuple) and key[0] == "jit == no jit"]
    lines.append(f"- kzoo greedy tokens with `jit_compile=True` identical to without in {sum(jit)} of {len(jit)} lengths.")
    if same_weights:
        lines.append(f"- Same weights in both: greedy tokens identical to keras-hub's in {sum(tokens)} of {len(tokens)} runs.")
    else:
        lines.append("- kzoo's importer was not available: the two models had different random weights.")
    if repetitions > 1:
        wall = sorted(_spread(item) for item in items.values())
        cpu = sorted(_spread(item, "cpu_times") for item in items.values())
        lines.append(
            f"- Noise: per item, (max - min) / median over the {repetitions} repetitions was "
            f"{100 * statistics.median(wall):.0f}% typically and {100 * wall[-1]:.0f}% at worst by wall time, "
            f"{100 * statistics.median(cpu):.0f}% and {100 * cpu[-1]:.0f}% by this process's CPU time; "
            "first calls are single samples."
        )
    else:
        lines.append("- One repetition (`--quick`): no spread to report; treat the numbers as rough.")
    return "\n".join(lines)


def markdown_section(
    cache, versus, profile, summary, info, command, batch_size, lengths, repetitions, loads, same_weights, took
):
    c = CONFIG
    weights = "imported into kzoo from the keras-hub backbone (same weights)" if same_weights else "random, different per library"
    return f"""## Generation: KV cache, and kzoo `CausalLM` vs keras-hub `GPT2CausalLM`

GPT-2-style decoder, {c['num_layers']} layers, width {c['hidden_dim']}, {c['num_heads']} heads, feed-forward
{c['intermediate_dim']}, vocabulary {c['vocabulary_size']:,}, {c['max_sequence_length']} positions, float32, weights
{weights}. Batch {batch_size}, prompts of {c['prompt_length']} random tokens, no end token (every call generates
exactly N tokens). Tokens/s = batch rows x new tokens / seconds (beams are not counted). Medians of
{repetitions} repetition(s), interleaved across every item (order reversed every other repetition); after the
first repetition an item shorter than {MIN_SECONDS} s is called up to {MAX_CALLS} times per repetition.

"Loop" timings call again the compiled function that `generate()` built (tracing excluded: what `generate()`
would cost if it reused its function). "First call" / "one call" is a whole `generate()` call, tracing (and
with XLA, compiling) included. keras-hub reuses its compiled function per buffer shape, so its rows are warm
calls and its tracing is in "first call".

```
{command}
```

- CPU: {info['cpu']}, {info['cores']} cores
- Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, keras-hub {info['keras_hub']}
- Measured {info['date']}; load average (1/5/15 min) {loads[0]} before, {loads[1]} after; took {took}

### Cache vs no cache (kzoo `generate`, `use_cache=False` recomputes the whole prefix every step)

{format_cache_table(cache, markdown=True)}

### kzoo vs keras-hub, greedy

{format_versus_table(versus, markdown=True)}

### Where the time goes ({max(lengths)} new tokens, batch {batch_size}; this process's CPU time)

{format_profile_table(profile, markdown=True)}

{summary}

Other processes shared the machine during this run, so absolute numbers are pessimistic; ratios within a
repetition are the figures to compare. "CPU time" columns divide this process's CPU seconds instead of wall
seconds: they move much less when other processes take the cores (the greedy loops keep about one core busy,
so on an idle machine they are close to the wall-time figures).
"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generation", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition, 32 and 128 new tokens, no keras-hub XLA rows")
    parser.add_argument("--batch-size", type=int, default=1, help="prompts per call (default 1)")
    parser.add_argument("--repetitions", type=int, help=f"timed repetitions (default {FULL[1]}, {QUICK[1]} with --quick)")
    parser.add_argument("--markdown", metavar="PATH", help="write/replace this benchmark's section of PATH")
    args = parser.parse_args(argv)
    for name in ("batch_size", "repetitions"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer; received {value}.")

    lengths, repetitions, reference_jit = QUICK if args.quick else FULL
    repetitions = args.repetitions or repetitions
    info = machine()
    command = "python -m benchmarks.generation" + (" --quick" if args.quick else "")
    command += f" --batch-size {args.batch_size}" if args.batch_size != 1 else ""
    command += f" --repetitions {args.repetitions}" if args.repetitions else ""
    print(__doc__.splitlines()[0])
    print(f"CPU: {info['cpu']}, {info['cores']} cores")
    print(
        f"Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}, "
        f"keras-hub {info['keras_hub']}; {info['date']}"
    )
    print(f"Batch {args.batch_size}, new tokens {lengths}, {repetitions} interleaved repetition(s).", flush=True)
    load_before = load_average()
    started, cpu_started = time.perf_counter(), os.times()
    kzoo_lm, hub_lm, same_weights = build_models()
    items, checks = measure(
        kzoo_lm, hub_lm, lengths, repetitions, batch_size=args.batch_size, reference_jit=reference_jit,
        log=lambda line: print(line, flush=True),
    )
    load_after = load_average()
    cache, versus, profile = cache_rows(items, checks, lengths), versus_rows(items, checks, lengths), profile_rows(items, lengths)
    summary = _summary(cache, versus, items, checks, lengths, repetitions, same_weights)
    print(f"\nCache vs no cache (kzoo):\n{format_cache_table(cache)}")
    print(f"\nkzoo vs keras-hub, greedy:\n{format_versus_table(versus)}")
    print(f"\nWhere the time goes ({max(lengths)} new tokens, CPU time):\n{format_profile_table(profile)}")
    cpu = os.times()
    took = (
        f"{time.perf_counter() - started:.0f} s wall, "
        f"{cpu.user + cpu.system - cpu_started.user - cpu_started.system:.0f} s CPU (this process)"
    )
    print(f"\n{summary}\nTook {took}.")
    if args.markdown:
        from benchmarks.run_all import write_section

        section = markdown_section(
            cache, versus, profile, summary, info, command, args.batch_size, lengths, repetitions,
            (load_before, load_after), same_weights, took,
        )
        write_section(args.markdown, SECTION, section)
        print(f"Wrote section `{SECTION}` of {args.markdown}.")
    return [dict(row, table=name) for name, rows in (("cache", cache), ("versus", versus), ("profile", profile)) for row in rows]


if __name__ == "__main__":
    main()
    sys.exit(0)
