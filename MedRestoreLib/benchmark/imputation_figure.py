"""The benchmark's figure of an imputed slice: truth, cubic, GMM and auto side by side."""
from __future__ import annotations

import numpy as np


def save_imputation_figure(example, path) -> None:
    """A coronal cut (across the slice axis k) of thick 4× slices on the thin grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in ("truth", "cubic", "gmm", "lstm", "auto") if n in example]
    row = example["truth"].shape[1] // 2
    figure, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4))
    for axis, name in zip(np.atleast_1d(axes), names):
        axis.imshow(np.clip(example[name][:, row, :], 0, 1)[::-1], cmap="gray", vmin=0, vmax=1,
                    interpolation="nearest", aspect="auto")
        axis.set_title({"truth": "thin truth", "gmm": "GMM (Dalca 2019)"}.get(name, name))
        axis.axis("off")
    figure.suptitle("thick slices at 4× → thin slices (coronal cut; slice axis vertical)")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
