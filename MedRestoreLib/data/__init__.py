"""Files that ship with the engine: the bundled sample (MNI152 2009a T1 at 2 mm, NOTICE.md)."""
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent / "mni152_t1_2mm.nrrd"
