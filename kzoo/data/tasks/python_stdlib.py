"""Two tasks read from the standard library's own source: `stdlib_topics` and `python_docs`.

`stdlib_topics` (classification): which area of the standard library does a
docstring come from? The source files are parsed with `ast` (never imported);
each example is the first paragraph of a module, class or function
docstring, whitespace collapsed, at least `MIN_WORDS` words. The label is
the area of its module in `AREAS`. The split is by module: a seeded
assignment within each area puts every module wholly in train, validation or
test (about 72/14/14 of the texts), so the held-out docstrings come from
modules the model never saw, and every area is in every split.

`python_docs` (masked_lm): unlabelled text to pre-train on before
fine-tuning on `stdlib_topics`. Training paragraphs are the training topics
of `pydoc_topics` plus every paragraph of the docstrings of the training
modules of `stdlib_topics` and of `CORPUS_ONLY_MODULES`. No paragraph of a
validation or test module of `stdlib_topics` or of a held-out topic is in
it, even where another module or topic repeats it word for word.
Validation and test are the held-out topics of `pydoc_topics`.

Example:
```python
task = kzoo.data.load_task("stdlib_topics")
text, label = task.test[0]
print(task.label_names[label], "<-", text)
corpus = kzoo.data.load_task("python_docs").train
```
"""

import ast
import functools
import os
import random
import sysconfig

from kzoo.data.registry import register_task
from kzoo.data.tasks import language_modeling
from kzoo.data.tasks.language_modeling import _paragraphs, _topic_splits

SEED = 5
HELD_OUT_SHARE = 0.15  # of each area's texts, at most, for validation and for test
MIN_WORDS = 5
# Area -> top-level modules and packages (a package brings all its
# submodules). `_pydecimal`, `_pyio` and `_strptime` are the pure-Python
# sources of `decimal`, `io` and `time.strptime`, whose docstrings live there.
AREAS = {
    "text processing": (
        "cmd", "codecs", "difflib", "gettext", "html", "locale", "re", "shlex", "string", "stringprep", "textwrap",
    ),
    "numbers, dates & times": (
        "_pydecimal", "_strptime", "calendar", "colorsys", "datetime", "fractions", "numbers", "random", "secrets",
        "statistics", "zoneinfo",
    ),
    "data types & functional tools": (
        "abc", "bisect", "collections", "contextlib", "copy", "dataclasses", "enum", "functools", "graphlib", "heapq",
        "operator", "pprint", "reprlib", "types", "typing", "weakref",
    ),
    "files & operating system": (
        "_pyio", "argparse", "bz2", "filecmp", "fileinput", "fnmatch", "genericpath", "getopt", "getpass", "glob",
        "gzip", "lzma", "ntpath", "optparse", "os", "pathlib", "platform", "posixpath", "pty", "shutil", "stat",
        "tarfile", "tempfile", "tty", "zipfile",
    ),
    "networking & internet": (
        "ftplib", "http", "imaplib", "ipaddress", "nntplib", "poplib", "smtplib", "socket", "socketserver", "ssl",
        "telnetlib", "urllib", "uuid", "webbrowser", "wsgiref", "xmlrpc",
    ),
    "concurrency": (
        "_threading_local", "asynchat", "asyncio", "asyncore", "concurrent", "multiprocessing", "queue", "sched",
        "selectors", "signal", "subprocess", "threading",
    ),
    "data formats & persistence": (
        "base64", "configparser", "copyreg", "csv", "dbm", "email", "json", "mailbox", "mimetypes", "netrc", "pickle",
        "pickletools", "plistlib", "quopri", "shelve", "sqlite3", "tomllib", "uu", "xdrlib", "xml",
    ),
    "development & debugging tools": (
        "ast", "bdb", "cProfile", "code", "codeop", "compileall", "dis", "doctest", "inspect", "logging", "pdb",
        "profile", "pstats", "py_compile", "pyclbr", "pydoc", "symtable", "tabnanny", "timeit", "tokenize", "trace",
        "traceback", "tracemalloc", "unittest", "warnings",
    ),
}
# More text for `python_docs`, in no area. Not lib2to3, idlelib or distutils:
# they carry copies of table modules (lib2to3's tokenize), which would leak
# held-out text into the corpus.
CORPUS_ONLY_MODULES = (
    "ctypes", "curses", "hashlib", "hmac", "importlib", "modulefinder", "pkgutil", "runpy", "site", "sysconfig",
    "tkinter", "turtle", "venv", "zipapp", "zipimport",
)
_TEST_FOLDERS = ("test", "tests", "idle_test", "__pycache__")


def _module_files(module):
    """The stdlib source files of a module or package, sorted, test folders left out."""
    root = sysconfig.get_paths()["stdlib"]
    path = os.path.join(root, module)
    if not os.path.isdir(path):
        return [path + ".py"]
    files = []
    for folder, subfolders, names in os.walk(path):
        subfolders[:] = sorted(name for name in subfolders if name not in _TEST_FOLDERS)
        files += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".py")]
    return files


def _definitions(statements):
    """Classes and functions among `statements` and nested in their blocks, in source order."""
    for node in statements:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node
        # Statement blocks only: definitions are statements, and not visiting
        # expressions makes this several times cheaper than `ast.walk`.
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            block = getattr(node, field, None)
            if block:
                yield from _definitions(block)


@functools.cache
def _docstrings(module):
    """Every module, class and function docstring of a module, in source order."""
    docstrings = []
    for path in _module_files(module):
        with open(path, encoding="utf-8") as file:
            tree = ast.parse(file.read())
        for node in [tree, *_definitions(tree.body)]:
            docstring = ast.get_docstring(node)
            if docstring:
                docstrings.append(docstring)
    return tuple(docstrings)


def _long_enough(paragraph):
    return len(paragraph.split()) >= MIN_WORDS


@functools.cache
def _texts_by_module():
    """`{module: first paragraphs}` of every table module.

    A text found in two modules (ntpath and posixpath share many) is dropped
    from both: it would otherwise sit in two splits or carry two labels.
    """
    texts = {}
    for modules in AREAS.values():
        for module in modules:
            firsts = [paragraph for docstring in _docstrings(module) for paragraph in _paragraphs(docstring)[:1]]
            texts[module] = list(dict.fromkeys(text for text in firsts if _long_enough(text)))
    owners = {}
    for module, module_texts in texts.items():
        for text in module_texts:
            owners.setdefault(text, set()).add(module)
    return {module: tuple(text for text in found if len(owners[text]) == 1) for module, found in texts.items()}


@functools.lru_cache(maxsize=4)
def _module_splits(seed):
    """Assigns each area's modules to splits: `{"train": [...], "validation": [...], "test": [...]}`.

    Within an area, modules are taken in a seeded order into test, then
    validation, while they fit in the split's share of the area's texts;
    the rest is train. So a package bigger than a share (asyncio, email)
    is always in train, and no single package fills a held-out split.
    """
    texts = _texts_by_module()
    rng = random.Random(seed)
    splits = {"train": [], "validation": [], "test": []}
    for modules in AREAS.values():
        remaining = list(modules)
        rng.shuffle(remaining)
        total = sum(len(texts[module]) for module in remaining)
        for name in ("test", "validation"):
            room = HELD_OUT_SHARE * total
            for module in list(remaining):
                if len(texts[module]) <= room:
                    room -= len(texts[module])
                    splits[name].append(module)
                    remaining.remove(module)
        splits["train"] += remaining
    return {name: tuple(sorted(modules)) for name, modules in splits.items()}


def module_splits(seed=SEED):
    """Returns the `stdlib_topics` modules of each split: `(train, validation, test)`.

    Example:
    ```python
    train_modules, validation_modules, test_modules = module_splits()
    assert not set(train_modules) & set(test_modules)
    ```
    """
    splits = _module_splits(seed)
    return splits["train"], splits["validation"], splits["test"]


def _area_of(module):
    return next(index for index, modules in enumerate(AREAS.values()) if module in modules)


@functools.lru_cache(maxsize=4)
def _topic_examples(seed):
    texts = _texts_by_module()
    return tuple(
        tuple((text, _area_of(module)) for module in modules for text in texts[module])
        for modules in module_splits(seed)
    )


def _build_topics(seed):
    train, validation, test = _topic_examples(seed)
    return list(train), list(validation), list(test), tuple(AREAS)


def _topics_split_sizes():
    return tuple(len(split) for split in _topic_examples(SEED))


@functools.lru_cache(maxsize=4)
def _corpus(seed):
    # The held-out topics of pydoc_topics are this task's validation and test.
    # Read from pydoc_topics' own split (not `load_task`), so that listing
    # the tasks stays free of generating any.
    pydoc_train, pydoc_validation, pydoc_test, _ = _topic_splits(language_modeling.SEED)
    train_modules, validation_modules, test_modules = module_splits(seed)
    held_out = set(pydoc_validation) | set(pydoc_test)
    for module in validation_modules + test_modules:
        held_out.update(paragraph for docstring in _docstrings(module) for paragraph in _paragraphs(docstring))
    docstring_paragraphs = [
        paragraph
        for module in sorted(train_modules + CORPUS_ONLY_MODULES)
        for docstring in _docstrings(module)
        for paragraph in _paragraphs(docstring)
        if _long_enough(paragraph)
    ]
    # An exact paragraph shared with a held-out module or topic is left out too.
    train = [paragraph for paragraph in dict.fromkeys(list(pydoc_train) + docstring_paragraphs) if paragraph not in held_out]
    return tuple(train), tuple(pydoc_validation), tuple(pydoc_test)


def _build_corpus(seed):
    train, validation, test = _corpus(seed)
    return list(train), list(validation), list(test), None


def _corpus_split_sizes():
    return tuple(len(split) for split in _corpus(SEED))


register_task(
    "stdlib_topics",
    kind="classification",
    description="Which of 8 standard-library areas a stdlib docstring comes from (parsed with ast), split by module.",
    metric="accuracy",
    seed=SEED,
    builder=_build_topics,
    split_sizes=_topics_split_sizes,
)

register_task(
    "python_docs",
    kind="masked_lm",
    description="Pydoc topics and stdlib docstrings for masked-LM pre-training; no stdlib_topics held-out module in it.",
    metric="perplexity",
    seed=SEED,
    builder=_build_corpus,
    split_sizes=_corpus_split_sizes,
)
