"""The shipped models: one folder per model version, listed in ``index.json``.

``index.json`` is the single source of which versions exist and which one is current
(:mod:`.catalog` reads it; ``index.schema.json`` is its schema). Current versions ship inside
the package, in this folder; older versions and ablation checkpoints live in ``model-archive/``
at the top of a source checkout, which neither the wheel nor the Slicer extension installs —
only the benchmark and the trainers read them.
"""
from pathlib import Path

#: The installed model folders and ``index.json``.
MODELS_DIR = Path(__file__).resolve().parent
#: Archived (non-current) model folders: present in a source checkout only.
ARCHIVE_DIR = MODELS_DIR.parents[1] / "model-archive"
