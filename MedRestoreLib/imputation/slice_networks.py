"""The recurrent slice networks as ``impute-slices`` runs them: the shipped weights, and a copy
tuned on the scan itself (:mod:`.slice_adapt`) when the options ask for it."""
from __future__ import annotations

from typing import Optional

#: The recurrent network ``auto`` tries (the retrained LSTM; docs/imputation.md).
AUTO_NETWORK = "lstm"


def load_slice_network(cell: str):
    """The shipped network of ``cell`` ('lstm' or 'srn'), verified, in eval mode on the CPU."""
    from .slice_net import build
    from .weights import load_model, shipped_folder

    return load_model(shipped_folder("slices", cell), build)[0]


def adapted_network(acquired, options, network, device: str, report: Optional[dict]):
    """``network`` tuned on the scan's in-plane data (a copy) when ``options`` (a
    :class:`~.slices.SliceImputeOptions`) has a factor and a time budget, else itself."""
    if options.factor is None or not options.adapt_seconds:
        return network
    from .slice_adapt import adapt

    tuned, adapt_report = adapt(network, acquired, int(options.factor), options.acquisition,
                                float(options.adapt_seconds), device=device)
    if report is not None:
        report["adapt"] = adapt_report.to_dict()
    return tuned
