"""The package layout, read from the code: which module may import which, by allow-list.

Every import of every module under kzoo/, export/, benchmarks/ and tests/ (module
level or inside a function, `import x` or `from x import y`) is read with `ast`
and held against the layout of docs/design.md: data flows one way, the TF-free
base at the bottom. A new edge the layout does not allow fails here, naming the
file, the line and the import.
"""

import ast
import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("kzoo", "export")

# Package -> the kzoo / export packages it may import (its own modules always).
ALLOWED = {
    "kzoo.runtime": set(),
    "kzoo.serve": {"kzoo.runtime"},
    "kzoo.layers": {"kzoo.runtime"},
    "kzoo.data": {"kzoo.runtime"},
    "kzoo.metrics": {"kzoo.runtime"},
    "kzoo.presets": {"kzoo.runtime"},
    "kzoo.generation": {"kzoo.runtime"},
    "kzoo.models": {"kzoo.runtime", "kzoo.layers", "kzoo.generation", "kzoo.presets", "kzoo.data"},
    # Pretrained checkpoints in: models, layers, and the checkpoint's own tokenizers.
    "kzoo.checkpoints": {"kzoo.runtime", "kzoo.layers", "kzoo.data", "kzoo.generation", "kzoo.presets", "kzoo.models"},
    "kzoo.training": {"kzoo.runtime", "kzoo.layers", "kzoo.data", "kzoo.metrics", "kzoo.presets", "kzoo.generation",
                      "kzoo.models", "kzoo.checkpoints"},
    "export": {"kzoo.runtime", "kzoo.layers", "kzoo.generation", "kzoo.presets", "kzoo.models"},
    # The package's face: lazy shortcuts to what lies below it, never the command layer or the converters.
    "kzoo": {"kzoo.runtime", "kzoo.models", "kzoo.training", "kzoo.checkpoints"},
    # The command layer on top: everything.
    "kzoo.commands": {"kzoo", "kzoo.runtime", "kzoo.serve", "kzoo.layers", "kzoo.data", "kzoo.metrics", "kzoo.presets",
                      "kzoo.generation", "kzoo.models", "kzoo.checkpoints", "kzoo.training", "export"},
}
TF_FREE = ("kzoo.runtime", "kzoo.serve")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources(*folders):
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py") if ".venv" not in path.parts)


MODULES = {_module_name(path) for path in _sources(*LIBRARY, "tests", "benchmarks")}


def _resolve(name):
    """The longest module of this tree that `name` names (`kzoo.runtime.load` -> `kzoo.runtime`), else `name`."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(path):
    """(line, imported module) for every import in the file, `from a import b` resolved to a.b when b is a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in MODULES]
            found += [(node.lineno, name) for name in submodules] or [(node.lineno, node.module)]
    return found


def _package(module):
    """The layout's package of a kzoo / export module (`kzoo.runtime.decoding` -> `kzoo.runtime`)."""
    if module.startswith("export"):
        return "export"
    parts = module.split(".")
    return "kzoo" if len(parts) == 1 else ".".join(parts[:2])


def _serve_extra_packages():
    """Import names of the `serve` extra's distributions (setup.cfg), e.g. ai-edge-litert -> ai_edge_litert."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    lines = config["options.extras_require"]["serve"].split()
    return {re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0].lower().replace("-", "_") for line in lines if line}


def _violations(folders, rule):
    problems = []
    for path in _sources(*folders):
        for line, imported in _imports(path):
            problem = rule(_module_name(path), imported)
            if problem:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports {imported}: {problem}")
    return problems


def layer_problem(module, imported):
    """Why `module` may not import `imported` under `ALLOWED`, or None."""
    target = _resolve(imported)
    if target.split(".")[0] not in LIBRARY:
        return None
    source, destination = _package(module), _package(target)
    if source == destination or destination in ALLOWED[source]:
        return None
    return f"{source} may import only {', '.join(sorted(ALLOWED[source])) or 'itself'} of kzoo"


def tf_free_problem(module, imported):
    """Why a kzoo.runtime / kzoo.serve module may not import `imported`, or None."""
    top = imported.split(".")[0]
    if not module.startswith(TF_FREE) or top in LIBRARY:  # kzoo's own edges: `layer_problem`.
        return None
    if top in set(sys.stdlib_module_names) | _serve_extra_packages() | {"numpy"}:
        return None
    return "kzoo.runtime and kzoo.serve import the standard library, numpy and the serve extra only"


def tree_problem(module, imported):
    """Why `module` may not import `imported` across tests/ and benchmarks/, or None."""
    top, home = imported.split(".")[0], module.split(".")[0]
    if top == "tests" and home != "tests":
        return "only tests import tests"
    if top == "benchmarks" and home != "benchmarks":
        return "nothing imports the benchmarks; `kzoo bench` runs them as a child process"
    return None


def test_every_kzoo_and_export_import_follows_the_layers():
    assert _violations(LIBRARY, layer_problem) == []


def test_the_tf_free_base_imports_only_the_standard_library_numpy_and_the_serve_extra():
    assert _violations(LIBRARY, tf_free_problem) == []


def test_nothing_imports_tests_or_benchmarks_from_outside():
    assert _violations((*LIBRARY, "tests", "benchmarks"), tree_problem) == []


def test_the_rules_catch_what_they_forbid():
    """The checks are not vacuous: each rule flags the edges the layout forbids, and passes a legal one."""
    assert tf_free_problem("kzoo.runtime.decoding", "keras")
    assert tf_free_problem("kzoo.serve.app", "tensorflow")
    assert tf_free_problem("kzoo.runtime.backends", "onnxruntime") is None
    assert layer_problem("kzoo.models.causal_lm", "export.bundle")
    assert layer_problem("kzoo.runtime.manifest", "kzoo.models")
    assert layer_problem("kzoo.training.recipe", "kzoo.commands.export")
    assert layer_problem("export.bundle", "kzoo.runtime.manifest") is None
    assert tree_problem("kzoo.commands.bench", "benchmarks.run_all")
    assert tree_problem("benchmarks.quality", "tests.training.test_quality_floors")


def test_no_library_module_edits_sys_path_or_imports_by_computed_name():
    problems = []
    for path in _sources(*LIBRARY):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
                problems.append(f"{where} touches sys.path")
            if isinstance(node, ast.Call):
                function = node.func
                name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
                if name == "__import__" or (name == "import_module" and not (
                        node.args and isinstance(node.args[0], ast.Constant))):
                    problems.append(f"{where} imports by a computed name")
    assert problems == []


def test_importing_kzoo_its_runtime_and_its_server_loads_no_tensorflow():
    """A fresh process: `import kzoo`, `kzoo.runtime`, `kzoo.serve`, `kzoo.commands` and `kzoo --help` stay light."""
    code = (
        "import sys, contextlib, io\n"
        "import kzoo, kzoo.runtime, kzoo.serve, kzoo.commands\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        kzoo.commands.main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'tensorflow', 'keras', 'keras_hub', 'tensorflow_text', 'tf2onnx', 'torch'}\n"
        "print(sorted({name.split('.')[0] for name in sys.modules} & heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
