"""First-use installation of what MedRestore needs inside Slicer, after the user agrees.

- The Python packages of ``Resources/requirements.txt``: ``slicer.packaging.pip_ensure`` on
  Slicer 5.12+ (it checks, asks and installs), ``slicer.util.pip_install`` on older Slicer after
  our own check (``MedRestoreLib.background.requirements``) and a confirmation dialog.
- torch: through the PyTorch extension (``PyTorchUtils.PyTorchUtilsLogic().installTorch``), which
  chooses a build that fits the GPU and driver, as TotalSegmentator and MONAIAuto3DSeg do.

Once installed nothing is downloaded again: the model weights ship inside the extension, so
MedRestore works offline.
"""
import importlib
import logging

import slicer

from MedRestoreLib.background.requirements import missing_requirements

TORCH_REQUIREMENT = ">=2.0"
_checked = False  # once per session: pip and importlib checks take a moment


class DependencyError(RuntimeError):
    """A dependency is missing and was not installed; the message says what to do."""


def _ensurePythonPackages(requirementsPath):
    missing = missing_requirements(requirementsPath)
    if not missing:
        return
    try:
        import slicer.packaging as packaging
        ensure = packaging.pip_ensure
    except (ImportError, AttributeError):
        ensure = None
    if ensure is not None:
        try:
            ensure(packaging.load_requirements(str(requirementsPath)), requester="MedRestore")
        except RuntimeError as error:  # raised when the user declines
            raise DependencyError(f"MedRestore needs {', '.join(missing)}: {error}") from None
    else:
        if not slicer.util.confirmOkCancelDisplay(
                "MedRestore needs these Python packages, which will be downloaded and installed "
                f"now (once):\n\n{chr(10).join(missing)}", "MedRestore: install packages"):
            raise DependencyError(f"MedRestore needs {', '.join(missing)}; installation was declined")
        for requirement in missing:  # one at a time: old pip_install passes its string as one argument
            slicer.util.pip_install(requirement)
    importlib.invalidate_caches()


def _ensureTorch():
    try:
        import PyTorchUtils
    except ModuleNotFoundError:
        raise DependencyError(
            "MedRestore needs the PyTorch extension to install torch. Install 'PyTorch' from the "
            "Extensions Manager, restart Slicer, and press Apply again.") from None
    torchLogic = PyTorchUtils.PyTorchUtilsLogic()
    if torchLogic.torchInstalled():
        return
    torch = torchLogic.installTorch(askConfirmation=True, torchVersionRequirement=TORCH_REQUIREMENT)
    if torch is None:
        raise DependencyError("MedRestore needs torch; its installation was declined or failed "
                              "(see the Python console)")


def ensureDependencies(requirementsPath, needTorch=True):
    """Check, and after confirmation install, what the run needs.

    Raises:
        DependencyError: something is missing and was not installed (the message says what to do).
    """
    global _checked
    if _checked:
        return
    _ensurePythonPackages(requirementsPath)
    if needTorch:
        _ensureTorch()
    _checked = True
    logging.info("MedRestore: dependencies are installed")
