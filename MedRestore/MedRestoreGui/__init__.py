"""Qt glue of the MedRestore panel, one concern per file; the engine (MedRestoreLib) has no Qt."""
from .dependencies import ensureDependencies
from .devices_probe import DevicesProbe
from .process_runner import ChildProcessRunner
from .results_view import ResultsView
from .run_panel import RunPanel
from .sample_data import registerSampleData

__all__ = ["ChildProcessRunner", "DevicesProbe", "ResultsView", "RunPanel", "ensureDependencies", "registerSampleData"]
