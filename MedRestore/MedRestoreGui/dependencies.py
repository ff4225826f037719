"""First-use installation of what MedRestore needs inside Slicer, after the user agrees.

- The Python packages of ``Resources/requirements.txt``, under a constraints file that pins every
  package already installed (``MedRestoreLib.background.constraints``): pip may only add packages,
  so Slicer's numpy and scipy (and what VTK, SimpleITK and other extensions were built against)
  stay as they are. Slicer 5.12+: ``slicer.packaging.pip_ensure(requirements, constraints=...)``
  (it checks, asks, installs and offers a restart); older Slicer: our own check, a confirmation,
  then ``pip install --prefer-binary -c constraints ...`` run the way ``slicer.util.pip_install``
  runs it (``launchConsoleProcess`` of PythonSlicer, then ``logProcessOutput``). Not through
  ``pip_install`` itself: before Slicer 5.8 or so it splits a string on spaces and takes no list,
  so a constraints path with a space (a Windows user name) would break the command.
- torch: through the PyTorch extension (``PyTorchUtils.PyTorchUtilsLogic().installTorch``), which
  chooses a build that fits the GPU and driver, as TotalSegmentator and MONAIAuto3DSeg do.

In Slicer's testing mode nothing is installed (``pip_ensure`` skips installs there too): a missing
package is a :class:`DependencyError`, which the self-test turns into a skip.

Once installed nothing is downloaded again: the model weights ship inside the extension, so
MedRestore works offline.
"""
import importlib
import inspect
import logging
import os
import subprocess
import tempfile

import slicer

from MedRestoreLib.background.constraints import plan_install

TORCH_REQUIREMENT = ">=2.0"
_checked = set()  # what was found complete this session: pip and importlib checks take a moment


class DependencyError(RuntimeError):
    """A dependency is missing and was not installed; the message says what to do."""


def _pipEnsureWithConstraints():
    """``slicer.packaging.pip_ensure`` when this Slicer has one that takes constraints (5.12+)."""
    try:
        import slicer.packaging as packaging
    except ImportError:
        return None
    ensure = getattr(packaging, "pip_ensure", None)
    try:
        return ensure if ensure is not None and "constraints" in inspect.signature(ensure).parameters else None
    except (TypeError, ValueError):
        return None


def _pipInstall(arguments):
    """``python -m pip install ARGUMENTS`` in PythonSlicer, its output in the Python console (as
    ``slicer.util.pip_install`` does), each argument passed as it is."""
    from MedRestoreLib.background.run import python_executable

    process = slicer.util.launchConsoleProcess([python_executable(), "-m", "pip", "install", *arguments],
                                               useStartupEnvironment=False)
    slicer.util.logProcessOutput(process)  # raises CalledProcessError when pip fails


def _ensurePythonPackages(requirementsPath):
    plan = plan_install(requirementsPath)
    if plan.blocked:
        raise DependencyError(" ".join(plan.blocked))
    if not plan.missing:
        return
    if slicer.app.testingEnabled():
        raise DependencyError(f"MedRestore needs {', '.join(plan.missing)}, which Slicer does not install "
                              "in testing mode; press Apply once outside testing mode to install them")
    folder = tempfile.mkdtemp(prefix="MedRestore-install-")
    constraints = plan.write_constraints(os.path.join(folder, "constraints.txt"))
    try:
        ensure = _pipEnsureWithConstraints()
        if ensure is not None:
            try:
                ensure(list(plan.missing), constraints=str(constraints), requester="MedRestore")
            except RuntimeError as error:  # raised when the user declines
                raise DependencyError(f"MedRestore needs {', '.join(plan.missing)}: {error}") from None
        else:
            if not slicer.util.confirmOkCancelDisplay(
                    "MedRestore needs these Python packages, which will be downloaded and installed "
                    f"now (once):\n\n{chr(10).join(plan.missing)}\n\nPackages Slicer already has "
                    "(numpy, scipy, ...) are kept as they are.", "MedRestore: install packages"):
                raise DependencyError(f"MedRestore needs {', '.join(plan.missing)}; installation was declined")
            _pipInstall(plan.pip_arguments(constraints))
    except subprocess.CalledProcessError:
        raise DependencyError(f"pip could not install {', '.join(plan.missing)} beside the packages this Slicer "
                              "has (see the Python console for pip's message); nothing installed was changed") from None
    finally:
        try:
            os.remove(constraints)
            os.rmdir(folder)
        except OSError:
            pass
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
    if slicer.app.testingEnabled():
        raise DependencyError("torch is not installed, and Slicer installs nothing in testing mode")
    torch = torchLogic.installTorch(askConfirmation=True, torchVersionRequirement=TORCH_REQUIREMENT)
    if torch is None:
        raise DependencyError("MedRestore needs torch; its installation was declined or failed "
                              "(see the Python console)")


def ensureDependencies(requirementsPath, needTorch=True):
    """Check, and after confirmation install, what the run needs.

    Args:
        requirementsPath: ``Resources/requirements.txt``.
        needTorch: the run uses a network (LSTM detector, GAN fill, slice/sequence models); the
            classical methods need no torch.

    Raises:
        DependencyError: something is missing and was not installed (the message says what to do).
    """
    wanted = {"packages"} | ({"torch"} if needTorch else set())
    if wanted <= _checked:
        return
    if "packages" not in _checked:
        _ensurePythonPackages(requirementsPath)
        _checked.add("packages")
    if needTorch and "torch" not in _checked:
        _ensureTorch()
        _checked.add("torch")
    logging.info("MedRestore: dependencies are installed")
