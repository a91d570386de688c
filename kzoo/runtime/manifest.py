"""A bundle's manifest.json: reading it, checking every file it lists, finding an export's files.

`export.bundle.export_bundle` records each file's sha256 and size; a bundle whose
files are missing, changed or truncated is refused before any of them is loaded,
with a message that names the file. File names that point outside the bundle
folder (a tampered manifest) are refused too.

Version 2 (written since the package re-cut) records, for every exported
variant, its format, its precision and which file holds each part
(`manifest["exports"]`), and always states the task kind, so no reader rebuilds
a file name or guesses a task from a model family. Version-1 manifests are
brought to that shape once, on reading (`upgrade_version_1`).

Example:
```python
manifest = read_manifest("saved_models/translator")
verify_files("saved_models/translator", manifest)
find_export(manifest, "onnx", "dynamic_int8")["parts"]   # {'encode': 'encoder_qint8.onnx', ...}
```
"""

import hashlib
import json
import os
from pathlib import Path

from kzoo.runtime.errors import BundleError

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 2
SUPPORTED_MANIFEST_VERSIONS = (1, 2)
_BLOCK = 1 << 20
# Version-1 manifests named no task kind when the exporter was given no task: the
# family's kind, as that version's runtime inferred it. Read for old bundles only.
_VERSION_1_FAMILY_KINDS = {
    "TransformerSeq2Seq": "translation",
    "GRUSeq2Seq": "translation",
    "TextClassifier": "classification",
    "TokenTagger": "tagging",
    "CausalLM": "language_modeling",
    "ViTClassifier": "image_classification",
}


def read_manifest(bundle):
    """The parsed manifest.json of the bundle folder `bundle` (in the version-2 shape); raises `BundleError`."""
    folder = Path(os.fspath(bundle))
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise BundleError(
            f"Received an invalid value for argument `bundle`, expected a bundle folder. Received: bundle={str(bundle)!r}"
        )
    if not path.is_file():
        raise BundleError(f"Bundle file {MANIFEST_FILE} is missing from {folder}; is this a folder written by `kzoo export`?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"Bundle file {MANIFEST_FILE} in {folder} is not valid JSON ({error}).") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BundleError(f"Bundle file {MANIFEST_FILE} in {folder} has no `files` table; it was not written by `kzoo export`.")
    version = manifest.get("manifest_version")
    if version not in SUPPORTED_MANIFEST_VERSIONS:
        raise BundleError(
            f"Bundle file {MANIFEST_FILE} in {folder} has manifest_version={version!r}; this runtime reads "
            f"version {', '.join(map(str, SUPPORTED_MANIFEST_VERSIONS))}."
        )
    return upgrade_version_1(manifest) if version == 1 else manifest


def upgrade_version_1(manifest):
    """A version-1 manifest in the version-2 shape: `exports` from the parity reports, the task kind stated."""
    manifest = dict(manifest)
    task = dict(manifest.get("task") or {})
    task.setdefault("kind", _VERSION_1_FAMILY_KINDS.get(manifest.get("family")))
    onnx_parts = list((manifest.get("onnx_parts") or {}))
    signatures = list(manifest.get("signatures") or {})
    exports = {}
    for variant, report in (manifest.get("parity") or {}).get("variants", {}).items():
        files = report.get("files") or []
        if variant == "savedmodel":
            exports[variant] = {"format": "savedmodel", "precision": "fp32", "parts": {p: "savedmodel" for p in signatures}}
        elif variant.startswith("tflite_") and files:
            exports[variant] = {"format": "tflite", "precision": variant[len("tflite_"):],
                                "parts": {part: files[0] for part in signatures}}
        elif variant.startswith("onnx") and len(files) == len(onnx_parts):
            # Version 1 listed an ONNX variant's files in the order of its `onnx_parts`.
            exports[variant] = {"format": "onnx", "precision": "fp32" if variant == "onnx" else variant[len("onnx_"):],
                                "parts": dict(zip(onnx_parts, files))}
    manifest.update(task=task, exports=exports, manifest_version=MANIFEST_VERSION)
    return manifest


def find_export(manifest, export_format, precision):
    """The `exports` entry of `export_format` ("onnx", "tflite", "savedmodel") at `precision`, or None."""
    for entry in (manifest.get("exports") or {}).values():
        if entry.get("format") == export_format and entry.get("precision") == precision:
            return entry
    return None


def file_sha256(path):
    """Hex sha256 of the file at `path`, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(bundle, manifest):
    """Checks that every file in `manifest["files"]` exists under `bundle` with its recorded sha256.

    Raises:
        BundleError: naming the first missing, resized or changed file.
    """
    folder = Path(os.fspath(bundle)).resolve()
    for relative, entry in sorted(manifest["files"].items()):
        path = (folder / relative).resolve()
        if folder not in path.parents:
            raise BundleError(
                f"Bundle file {relative} in {MANIFEST_FILE} points outside the bundle folder {folder}; refusing to load."
            )
        if not path.is_file():
            raise BundleError(
                f"Bundle file {relative} is missing from {folder}; the bundle is incomplete (copy it again or re-export)."
            )
        expected = entry.get("sha256") if isinstance(entry, dict) else None
        if not expected:
            raise BundleError(f"Bundle file {relative} has no sha256 in {MANIFEST_FILE}; refusing to load an unchecked file.")
        size = entry.get("bytes")
        if size is not None and path.stat().st_size != size:
            raise BundleError(
                f"Bundle file {relative} has {path.stat().st_size} bytes, not the {size} recorded in {MANIFEST_FILE}; "
                "it is truncated or was changed after export."
            )
        actual = file_sha256(path)
        if actual != expected:
            raise BundleError(
                f"Bundle file {relative} does not match its sha256 in {MANIFEST_FILE} (expected {expected[:12]}..., "
                f"found {actual[:12]}...); it is corrupted or was changed after export."
            )
