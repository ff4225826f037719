# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint fuzz check-slicer-versions data figures clean

venv: $(STAMP)

# The stamp depends on the files that define the environment, so editing them reinstalls.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/medrestore demo --out out/demo

test: lint
	$(PY) -m pytest -q Testing

# Every supported Slicer (MedRestoreLib/background/slicer_versions.py): the requirements resolve
# under its Python, numpy and scipy, and, where this machine has that Python (pyenv), the panel's
# install keeps Slicer's packages and the engine restores the sample. Needs PyPI; a few minutes.
check-slicer-versions: $(STAMP)
	MEDRESTORE_SLICER_MATRIX=1 $(PY) -m pytest -q -rs Testing/background/test_slicer_matrix.py

# The fuzz and fault suite with many generated cases (its quick part runs in `make test`):
# `make fuzz SEED=1` prints and writes out/fuzz/summary-seed1.json (cases, failures, run time).
SEED ?= 0
EXAMPLES ?= 300
SIGNALS ?= 40
fuzz: $(STAMP)
	$(PY) -m Testing.fuzz.run --seed $(SEED) --examples $(EXAMPLES) --signals $(SIGNALS) --out out/fuzz

# ruff (pinned in constraints.txt): pycodestyle, pyflakes and import order, as pyproject.toml sets.
lint: $(STAMP)
	$(VENV)/bin/ruff check MedRestoreLib MedRestore Testing

# The README's pictures and the Sample Data thumbnail, rendered with VTK offscreen from a real
# blind restore of the "MedRestore damaged brain MRI" sample.
figures: $(STAMP)
	$(PY) -m MedRestoreLib.benchmark.readme_figures --out MedRestore/Resources/Screenshots

# Training and development data (Colin27, atlases, MNI152) into a cache outside git.
data: $(STAMP)
	$(PY) -m MedRestoreLib.training.fetch_data

clean:
	rm -rf out .pytest_cache
