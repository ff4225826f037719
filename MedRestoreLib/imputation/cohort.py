"""The real longitudinal cohort DESIGN.md allows: leaspy's ``alzheimer.csv`` (generated
ADNI-like scores in [0, 1]) split by subject into training and held-out subjects. Synthetic
cohorts are made by :mod:`.cohort_generator`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

import numpy as np

Series = Tuple[np.ndarray, np.ndarray]


def alzheimer_subjects(path: Path, held_out: bool) -> List[Tuple[np.ndarray, np.ndarray]]:
    """Subjects of ``alzheimer.csv`` as (age (V,), scores (V, M)): every 5th subject (sorted by
    ID) is held out for evaluation, the others are for training."""
    import csv

    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if c not in ("ID", "TIME")]
    subjects = {}
    for row in rows:
        subjects.setdefault(row["ID"], []).append(row)
    chosen = []
    for number, name in enumerate(sorted(subjects)):
        if (number % 5 == 4) != held_out:
            continue
        visits = sorted(subjects[name], key=lambda r: float(r["TIME"]))
        values = np.array([[float(v[c]) if v[c] not in ("", None) else np.nan for c in columns]
                           for v in visits])
        chosen.append((np.array([float(v["TIME"]) for v in visits]), values))
    return chosen
