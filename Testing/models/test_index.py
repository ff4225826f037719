"""``models/index.json`` is the single source of model versions: it follows its schema, every
folder it lists is there and complete with matching versions and SHA-256 sums, each model id has
exactly one current version, no folder is unlisted, and the extension installs exactly the
current ones."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from MedRestoreLib.models import ARCHIVE_DIR, MODELS_DIR
from MedRestoreLib.models.folder import sha256_of

ROOT = Path(__file__).resolve().parents[2]
INDEX = json.loads((MODELS_DIR / "index.json").read_text())
FILES = ("weights.pt", "card.md", "config.json", "metadata.json")


def place(entry: dict) -> Path:
    return (MODELS_DIR if entry["current"] else ARCHIVE_DIR) / entry["folder"]


def test_the_index_follows_its_draft_07_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((MODELS_DIR / "index.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    jsonschema.Draft7Validator(schema).validate(INDEX)
    broken = dict(INDEX, models=[dict(INDEX["models"][0], current="yes")])
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


@pytest.mark.parametrize("entry", INDEX["models"], ids=lambda entry: entry["folder"])
def test_every_listed_folder_is_complete_and_agrees_with_its_metadata(entry):
    folder = place(entry)
    assert sorted(name for name in FILES if not (folder / name).is_file()) == []
    assert entry["folder"] == f"{entry['id']}-v{entry['version']}"
    metadata = json.loads((folder / "metadata.json").read_text())
    assert (metadata["id"], metadata["version"]) == (entry["id"], entry["version"])
    assert sha256_of(folder / "weights.pt") == metadata["sha256"]
    for name, variant in metadata.get("variants", {}).items():  # ablation checkpoints beside the weights
        assert sha256_of(folder / name) == variant["sha256"], name


def test_each_model_id_has_exactly_one_current_version():
    counts = Counter(entry["id"] for entry in INDEX["models"] if entry["current"])
    assert set(counts) == {entry["id"] for entry in INDEX["models"]}
    assert all(count == 1 for count in counts.values()), counts


def test_no_model_folder_is_unlisted_and_only_current_ones_are_installed():
    listed = {entry["folder"]: entry["current"] for entry in INDEX["models"]}
    installed = {p.name for p in MODELS_DIR.iterdir() if p.is_dir() and p.name != "__pycache__"}
    archived = {p.name for p in ARCHIVE_DIR.iterdir() if p.is_dir()}
    assert installed == {name for name, current in listed.items() if current}
    assert archived == {name for name, current in listed.items() if not current}


def cmake_list(name: str) -> list:
    text = (ROOT / "MedRestore" / "CMakeLists.txt").read_text()
    return re.search(rf"set\({name}\s+(.*?)\)", text, re.S).group(1).split()


def test_the_extension_installs_exactly_the_current_models():
    current = sorted(entry["folder"] for entry in INDEX["models"] if entry["current"])
    assert sorted(cmake_list("LIB_MODEL_FOLDERS")) == current
    assert sorted(cmake_list("LIB_MODEL_FILES")) == sorted(FILES)
    cmake = (ROOT / "MedRestore" / "CMakeLists.txt").read_text()
    assert "model-archive" not in re.sub(r"#.*", "", cmake)  # only named in comments, never installed


def test_the_wheel_ships_only_installed_model_folders():
    # package-data patterns are relative to MedRestoreLib/: the archive, outside it, cannot match.
    text = (ROOT / "pyproject.toml").read_text()
    patterns = re.search(r"MedRestoreLib = \[(.*?)\]", text).group(1)
    assert "models/" in patterns and ".." not in patterns
    assert ARCHIVE_DIR.parent == ROOT and ARCHIVE_DIR.resolve() != MODELS_DIR.resolve()
