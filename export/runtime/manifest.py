"""Read a bundle's manifest.json and check every file it lists against its sha256.

`export.bundle.export_bundle` records each file's sha256 and size; a bundle whose
files are missing, changed or truncated is refused before any of them is loaded,
with a message that names the file. File names that point outside the bundle
folder (a tampered manifest) are refused too.

Example:
```python
manifest = read_manifest("saved_models/translator")
verify_files("saved_models/translator", manifest)
```
"""

import hashlib
import json
import os
from pathlib import Path

from export.runtime.errors import BundleError

MANIFEST_FILE = "manifest.json"
SUPPORTED_MANIFEST_VERSIONS = (1,)
_BLOCK = 1 << 20


def read_manifest(bundle):
    """The parsed manifest.json of the bundle folder `bundle`; raises `BundleError` when unreadable."""
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
    return manifest


def file_sha256(path):
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
