"""What a finished training run leaves in its ``--out`` folder: ``weights.pt``, ``config.json``
(the resolved config with the commit and the command that made it) and ``metadata.json`` (id,
version, SHA-256 of the weights, parameter count, and what the run measured) — the files a model
folder ships, read back by :mod:`MedRestoreLib.models.folder`."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Dict, Optional

import torch

from ..models.folder import sha256_of


def current_commit() -> str:
    """The git commit of this checkout, or "unknown" outside git."""
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def write_run_folder(out: Path, network, config: dict, command: str, resolved: Optional[dict] = None,
                     **measured) -> Dict:
    """Write the network's weights, ``config`` (plus ``resolved`` entries, the commit and
    ``command``) and the metadata (plus ``measured``) into ``out``; return the metadata."""
    weights = Path(out) / "weights.pt"
    torch.save(network.state_dict(), weights)
    config_file = dict(config, **(resolved or {}), commit=current_commit(), command=command)
    (Path(out) / "config.json").write_text(json.dumps(config_file, indent=2))
    metadata = {"id": config["model"]["id"], "version": config["model"]["version"], "sha256": sha256_of(weights),
                "parameters": sum(p.numel() for p in network.parameters()), **measured}
    (Path(out) / "metadata.json").write_text(json.dumps(metadata, indent=2))
    return metadata
