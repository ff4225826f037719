"""``from MedRestoreLib.logic import MedRestoreLogic``: the public name of the MRML logic, whose
code lives in :mod:`MedRestoreLib.mrml` (everything that touches MRML is there)."""
from .mrml.logic import DEFECTS_REFERENCE, PROBABILITY_REFERENCE, REPORT_REFERENCE, MedRestoreLogic

__all__ = ["MedRestoreLogic", "DEFECTS_REFERENCE", "PROBABILITY_REFERENCE", "REPORT_REFERENCE"]
