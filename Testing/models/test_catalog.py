"""The model catalog: loaders find the current version through models/index.json."""
from __future__ import annotations

import json
import shutil

import pytest

from MedRestoreLib.errors import InputError
from MedRestoreLib.models import ARCHIVE_DIR, MODELS_DIR
from MedRestoreLib.models.catalog import current_folder, entries, folder


def test_current_folders_are_the_index_entries_marked_current():
    index = json.loads((MODELS_DIR / "index.json").read_text())["models"]
    for entry in index:
        if entry["current"]:
            assert current_folder(entry["id"]) == MODELS_DIR / entry["folder"]
            assert folder(entry["id"], entry["version"]) == MODELS_DIR / entry["folder"]
    assert {e.id for e in entries()} == {"defect-lstm", "inpaint-gan", "inpaint-unet", "slice-lstm", "slice-srn",
                                         "sequence-lstm", "sequence-srn"}


def test_an_archived_version_is_found_in_the_archive_of_a_source_checkout():
    assert folder("inpaint-gan", "1.0.0") == ARCHIVE_DIR / "inpaint-gan-v1.0.0"
    assert (folder("defect-lstm", "1.0.0") / "weights.pt").is_file()


def test_an_absent_archive_is_said_clearly(tmp_path):
    with pytest.raises(InputError, match="archived.*not installed"):
        folder("inpaint-gan", "1.0.0", archive=tmp_path / "no-archive")
    with pytest.raises(InputError, match="does not list"):
        folder("inpaint-gan", "9.9.9")


def test_making_a_version_current_is_one_edit_of_the_index(tmp_path):
    shutil.copy(MODELS_DIR / "index.json", tmp_path / "index.json")
    index = json.loads((tmp_path / "index.json").read_text())
    for entry in index["models"]:
        if entry["id"] == "inpaint-gan":
            entry["current"] = entry["version"] == "1.0.0"
    (tmp_path / "index.json").write_text(json.dumps(index))
    assert current_folder("inpaint-gan", tmp_path) == tmp_path / "inpaint-gan-v1.0.0"


def test_a_broken_index_is_an_input_error(tmp_path):
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(InputError, match="not a readable model index"):
        current_folder("inpaint-gan", tmp_path)
    (tmp_path / "index.json").write_text(json.dumps({"models": []}))
    with pytest.raises(InputError, match="0 current versions"):
        current_folder("inpaint-gan", tmp_path)
