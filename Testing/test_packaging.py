"""The Slicer extension packaging: CMake lists, .s4ext, catalog .json, icon, requirements.

These checks need no Slicer build: they read the files as text and compare them.
"""
from __future__ import annotations

import copy
import json
import re
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE_DIR = ROOT / "MedRestore"
LIB_DIR = ROOT / "MedRestoreLib"
SCHEMA_PATH = ROOT / "Testing" / "Data" / "slicer-extension-catalog-entry-schema-v1.0.1.json"
ICON_PATH = MODULE_DIR / "Resources" / "Icons" / "MedRestore.png"


# ----------------------------------------------------------------------------- helpers

def cmake_sets(path: Path) -> dict[str, list[str]]:
    """Return {variable: [values]} for each ``set(VAR v1 v2 ...)`` in a CMake file.

    Comments are dropped, quoted values kept whole and ``${VAR}`` references expanded with
    earlier single-valued sets, which is all our CMake lists use.
    """
    text = "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in path.read_text().splitlines())
    values: dict[str, list[str]] = {}
    for match in re.finditer(r"\bset\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s+(.*?)\)", text, re.S):
        name, body = match.group(1), match.group(2)
        tokens = [m.group(1) if m.group(1) is not None else m.group(2)
                  for m in re.finditer(r'"([^"]*)"|(\S+)', body)]

        def expand(token: str) -> str:
            return re.sub(r"\$\{(\w+)\}", lambda m: " ".join(values.get(m.group(1), [m.group(0)])), token)

        values[name] = [expand(token) for token in tokens]
    return values


def python_files(folder: Path, relative_to: Path) -> set[str]:
    """POSIX paths of the ``*.py`` files under folder, relative to ``relative_to``."""
    return {
        path.relative_to(relative_to).as_posix()
        for path in folder.rglob("*.py")
        if "__pycache__" not in path.parts and not any(p.startswith(".") for p in path.parts)
    }


def unlisted(found: set[str], listed: list[str]) -> list[str]:
    """Files that exist but are missing from a CMake list, sorted."""
    return sorted(found - set(listed))


def read_s4ext(path: Path) -> dict[str, str]:
    """First token of each non-comment line is the key, the rest of the line the value."""
    fields = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        fields[key] = value.strip()
    return fields


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk; raises ValueError when not a PNG."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return struct.unpack(">II", data[16:24])


def catalog_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def strip_git(url: str) -> str:
    return url[:-4] if url.endswith(".git") else url


@pytest.fixture(scope="module")
def extension_metadata() -> dict[str, str]:
    sets = cmake_sets(ROOT / "CMakeLists.txt")
    return {name[len("EXTENSION_"):]: " ".join(v) for name, v in sets.items() if name.startswith("EXTENSION_")}


@pytest.fixture(scope="module")
def s4ext() -> dict[str, str]:
    return read_s4ext(ROOT / "MedRestore.s4ext")


@pytest.fixture(scope="module")
def catalog() -> dict:
    return json.loads((ROOT / "MedRestore.json").read_text())


# ----------------------------------------------------------------------------- (a) CMake lists

def test_every_module_python_file_is_listed_in_cmake_scripts():
    listed = cmake_sets(MODULE_DIR / "CMakeLists.txt")["MODULE_PYTHON_SCRIPTS"]
    missing = unlisted(python_files(MODULE_DIR, MODULE_DIR), listed)
    assert not missing, f"add to MODULE_PYTHON_SCRIPTS in MedRestore/CMakeLists.txt: {missing}"


def test_every_lib_python_file_is_listed_in_cmake_scripts():
    listed = cmake_sets(MODULE_DIR / "CMakeLists.txt")["LIB_PYTHON_SCRIPTS"]
    missing = unlisted(python_files(LIB_DIR, ROOT), listed)
    assert not missing, f"add to LIB_PYTHON_SCRIPTS in MedRestore/CMakeLists.txt: {missing}"


def test_every_listed_cmake_file_exists():
    sets = cmake_sets(MODULE_DIR / "CMakeLists.txt")
    listed = [MODULE_DIR / f for f in sets["MODULE_PYTHON_SCRIPTS"] + sets["MODULE_PYTHON_RESOURCES"]]
    listed += [ROOT / f for f in sets["LIB_PYTHON_SCRIPTS"]]
    absent = sorted(str(p.relative_to(ROOT)) for p in listed if not p.is_file())
    assert not absent, f"listed in MedRestore/CMakeLists.txt but missing: {absent}"


def test_unlisted_check_names_the_missing_file():
    # The check above must be able to fail: a new file absent from the list is reported by name.
    found = {"MedRestoreLib/volume.py", "MedRestoreLib/detection/lstm.py"}
    assert unlisted(found, ["MedRestoreLib/volume.py"]) == ["MedRestoreLib/detection/lstm.py"]


def test_module_cmake_installs_resources_package_data_and_tests():
    text = (MODULE_DIR / "CMakeLists.txt").read_text()
    resources = cmake_sets(MODULE_DIR / "CMakeLists.txt")["MODULE_PYTHON_RESOURCES"]
    for resource in ("Resources/Icons/MedRestore.png", "Resources/UI/MedRestore.ui",
                     "Resources/requirements.txt"):
        assert resource in resources
    assert "MedRestoreLib/data/*" in text and "MedRestoreLib/models/${folder}/${name}" in text
    assert re.search(r"ctkMacroCompilePythonScript\(.*?SOURCE_DIR.*?NO_INSTALL_SUBDIR", text, re.S)
    assert "WITH_GENERIC_TESTS" in text
    assert re.search(r"slicer_add_python_unittest\(\s*SCRIPT\s+\$\{MODULE_NAME\}\.py", text)


def test_top_level_cmake_builds_an_extension():
    text = (ROOT / "CMakeLists.txt").read_text()
    for needle in ("cmake_minimum_required(VERSION 3.16.3...3.19.7", "project(MedRestore)",
                   "find_package(Slicer REQUIRED)", "include(${Slicer_USE_FILE})",
                   "add_subdirectory(MedRestore)", "include(${Slicer_EXTENSION_GENERATE_CONFIG})",
                   "include(${Slicer_EXTENSION_CPACK})"):
        assert needle in text, needle


# ----------------------------------------------------------------------------- (b) catalog schema

def test_schema_copy_is_the_v1_0_1_catalog_entry_schema():
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$id"].rstrip("#").endswith("/Schemas/" + SCHEMA_PATH.name)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"$schema", "category", "scm_url"}


def test_catalog_entry_validates_against_schema(catalog):
    errors = [e.message for e in catalog_validator().iter_errors(catalog)]
    assert not errors, errors


def test_catalog_entry_names_the_schema_it_follows(catalog):
    schema = json.loads(SCHEMA_PATH.read_text())
    assert catalog["$schema"].rstrip("#") == schema["$id"].rstrip("#")


def test_broken_catalog_entries_fail_validation(catalog):
    validator = catalog_validator()
    extra = dict(catalog, homepage="https://example.org")  # not allowed by the schema
    assert not validator.is_valid(extra)
    missing = {k: v for k, v in catalog.items() if k != "scm_url"}
    assert not validator.is_valid(missing)
    wrong = copy.deepcopy(catalog)
    wrong["tier"] = 2
    assert not validator.is_valid(wrong)


# ----------------------------------------------------------------------------- (c) metadata agree

def test_homepage_and_repository_agree(extension_metadata, s4ext, catalog):
    homepage = extension_metadata["HOMEPAGE"]
    assert homepage.startswith("https://github.com/")
    assert s4ext["homepage"] == homepage
    assert strip_git(s4ext["scmurl"]) == homepage
    assert strip_git(catalog["scm_url"]) == homepage
    assert s4ext["scm"] == catalog.get("scm_type", "git") == "git"
    assert s4ext["scmrevision"] == catalog["scm_revision"]


def test_category_agrees(extension_metadata, s4ext, catalog):
    assert extension_metadata["CATEGORY"] == s4ext["category"] == catalog["category"] == "Filtering"


def test_dependencies_agree(extension_metadata, s4ext, catalog):
    cmake = re.split(r"[\s;]+", extension_metadata["DEPENDS"].strip())
    assert cmake == s4ext["depends"].split() == catalog["build_dependencies"] == ["PyTorch"]


def test_description_contributors_and_screenshots_agree(extension_metadata, s4ext):
    assert extension_metadata["DESCRIPTION"] == s4ext["description"]
    assert 0 < extension_metadata["DESCRIPTION"].count(".") <= 2  # one or two sentences
    assert extension_metadata["CONTRIBUTORS"] == s4ext["contributors"]
    assert extension_metadata["SCREENSHOTURLS"].split() == s4ext["screenshoturls"].split()


def test_icon_url_points_at_the_icon_in_this_repository(extension_metadata, s4ext):
    url = extension_metadata["ICONURL"]
    assert s4ext["iconurl"] == url
    owner_repo = extension_metadata["HOMEPAGE"][len("https://github.com/"):]
    prefix = f"https://raw.githubusercontent.com/{owner_repo}/"
    assert url.startswith(prefix)
    branch, _, path = url[len(prefix):].partition("/")
    assert branch == s4ext["scmrevision"]
    assert (ROOT / path) == ICON_PATH


def test_build_subdirectory_and_enabled_agree(s4ext, catalog):
    assert s4ext["build_subdirectory"] == catalog.get("build_subdirectory", ".")
    assert (s4ext["enabled"] == "1") == catalog.get("enabled", True)


# ----------------------------------------------------------------------------- (d) icon and more

def test_icon_is_a_128_pixel_square_png():
    assert png_size(ICON_PATH) == (128, 128)


def test_requirements_have_lower_bounds_and_leave_torch_to_the_pytorch_extension():
    lines = [line.split("#")[0].strip()
             for line in (MODULE_DIR / "Resources" / "requirements.txt").read_text().splitlines()]
    requirements = [line for line in lines if line]
    names = {re.split(r"[<>=!~ ;\[]", r, maxsplit=1)[0].lower() for r in requirements}
    assert {"numpy", "scipy", "simpleitk", "scikit-image", "opencv-python-headless", "matplotlib"} <= names
    assert "torch" not in names
    assert all(">=" in r for r in requirements), requirements


def test_licence_is_apache_2():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


# ----------------------------------------------------------------------------- (e) the Slicer experience

def repository_file(url: str, extension_metadata) -> Path:
    """The file of this repository a raw.githubusercontent URL of the extension points at."""
    owner_repo = extension_metadata["HOMEPAGE"][len("https://github.com/"):]
    prefix = f"https://raw.githubusercontent.com/{owner_repo}/"
    assert url.startswith(prefix), url
    _, _, path = url[len(prefix):].partition("/")
    return ROOT / path


def test_every_screenshot_url_points_at_a_png_in_this_repository(extension_metadata):
    urls = extension_metadata["SCREENSHOTURLS"].split()
    assert any(url.endswith("/restore_slice_views.png") for url in urls)  # slice views with overlay
    for url in urls:
        path = repository_file(url, extension_metadata)
        assert path.is_file(), url
        width, height = png_size(path)
        assert width >= 400 and height >= 300, url


def test_the_sample_data_thumbnail_is_a_128_pixel_square_png_that_cmake_installs():
    thumbnail = MODULE_DIR / "Resources" / "Icons" / "MedRestoreSample.png"
    assert png_size(thumbnail) == (128, 128)
    resources = cmake_sets(MODULE_DIR / "CMakeLists.txt")["MODULE_PYTHON_RESOURCES"]
    assert "Resources/Icons/MedRestoreSample.png" in resources
    assert "MedRestoreSample.png" in (MODULE_DIR / "MedRestore.py").read_text()


def test_description_speaks_to_non_experts(extension_metadata):
    description = extension_metadata["DESCRIPTION"]
    for jargon in ("LSTM", "GAN", "DPD", "covariance", "inpaint", "CNN", "MRML"):
        assert jargon.lower() not in description.lower(), jargon
    assert 60 <= len(description) <= 300


def test_torch_comes_from_the_pytorch_extension_it_depends_on(extension_metadata):
    # requirements.txt leaves torch out (test above); the dependency makes the Extensions
    # Manager install PyTorch, whose PyTorchUtils installs a torch that fits the GPU.
    assert "PyTorch" in extension_metadata["DEPENDS"].split()
    installer = (MODULE_DIR / "MedRestoreGui" / "dependencies.py").read_text()
    assert "PyTorchUtils.PyTorchUtilsLogic()" in installer and "installTorch(askConfirmation=True" in installer
    assert "slicer.packaging" in installer and "pip_ensure" in installer and "pip_install" in installer


def test_the_weights_ship_inside_the_extension_so_it_works_offline():
    # The installed model folders (the current ones; Testing/models/test_index.py) with their weights.
    sets = cmake_sets(MODULE_DIR / "CMakeLists.txt")
    assert "weights.pt" in sets["LIB_MODEL_FILES"]
    weights = [LIB_DIR / "models" / folder / "weights.pt" for folder in sets["LIB_MODEL_FOLDERS"]]
    assert weights and all(path.stat().st_size > 1000 for path in weights)
    sources = "\n".join(p.read_text() for p in LIB_DIR.rglob("*.py") if "training" not in p.parts
                        and "benchmark" not in p.parts)
    for downloader in ("urlopen(", "requests.get(", "torch.hub.load", "hf_hub_download"):
        assert downloader not in sources, f"the engine downloads at run time: {downloader}"
