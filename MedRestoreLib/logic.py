"""``from MedRestoreLib.logic import MedRestoreLogic``: the public name of the MRML logic, whose
code lives in :mod:`MedRestoreLib.mrml` (everything that touches MRML is there)."""
from .mrml.logic import MedRestoreLogic
from .mrml.restore_outputs import DEFECTS_REFERENCE, PROBABILITY_REFERENCE, REPORT_REFERENCE

__all__ = ["MedRestoreLogic", "DEFECTS_REFERENCE", "PROBABILITY_REFERENCE", "REPORT_REFERENCE"]
