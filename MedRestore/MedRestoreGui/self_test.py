"""MedRestore's Slicer self-test (Developer mode > Reload and Test, or ctest through
``slicer_add_python_unittest``).

It runs what the panel runs: the CLI in a child process, read while Slicer keeps processing
events, so the application stays live. It uses only the classical methods (median-MAD detector,
biharmonic and neighbour-median fills), which need no torch, so it also runs in Slicer's testing
mode, where nothing gets installed. When one of the module's Python packages is missing (before
the first Apply) it is skipped with a message that says so.
"""
import os
import time
import unittest

import slicer
from slicer.ScriptedLoadableModule import ScriptedLoadableModuleTest

RUN_TIMEOUT_S = 300


def missingPackages():
    """The module's requirements not installed here (torch is not one: it comes from PyTorch)."""
    from MedRestoreLib.background.requirements import missing_requirements

    return missing_requirements(os.path.join(os.path.dirname(os.path.dirname(__file__)), "Resources",
                                             "requirements.txt"))


class MedRestoreTest(ScriptedLoadableModuleTest):
    """Self-test run by Slicer (Developer mode > Reload and Test, or ctest)."""

    def setUp(self):
        slicer.mrmlScene.Clear()

    def runTest(self):
        missing = missingPackages()
        if missing:
            reason = (f"MedRestore self-test skipped: {', '.join(missing)} not installed yet "
                      "(press Apply once in the MedRestore module to install them)")
            self.delayDisplay(reason)
            if slicer.app.testingEnabled():  # ctest: report a skip, not a pass or a failure
                raise unittest.SkipTest(reason)
            return
        self.setUp()
        self.test_KnownDefectsAreFilledInTheBackground()
        self.setUp()
        self.test_BlindRestoreAddsNodesOnlyOnSuccess()

    def _runInBackground(self, run):
        """Start ``run``'s child and process events until it ends; returns (status, monitor)."""
        from MedRestoreGui.process_runner import ChildProcessRunner
        from MedRestoreLib.background.run import RunMonitor

        finished, monitor = [], RunMonitor()
        runner = ChildProcessRunner(monitor.feed, finished.append, monitor.failed_to_start)
        runner.start(run.command(), run.environment())
        started = time.time()
        while not finished and time.time() - started < RUN_TIMEOUT_S:
            slicer.app.processEvents()  # Slicer keeps running while the child works
            time.sleep(0.05)
        if not finished:
            runner.cancel()
            self.fail(f"the run did not end within {RUN_TIMEOUT_S} s:\n{monitor.full_log()}")
        return finished[0], monitor

    def test_KnownDefectsAreFilledInTheBackground(self):
        import numpy as np

        from MedRestoreLib.data import SAMPLE
        from MedRestoreLib.logic import MedRestoreLogic
        from MedRestoreLib.metrics import psnr
        from MedRestoreLib.mrml.node_files import prepare_restore
        from MedRestoreLib.sample_data import damaged_sample_files
        from MedRestoreLib.volume import VolumeKind, read_volume

        self.delayDisplay("Loading the damaged sample (bundled MRI with mixed defects)")
        logic = MedRestoreLogic()
        damagedPath, truthPath = damaged_sample_files(os.path.join(slicer.app.temporaryPath, "MedRestoreTest"))
        damaged, truth = read_volume(damagedPath), read_volume(truthPath, VolumeKind.LABEL)
        inputNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLScalarVolumeNode", "MedRestoreTestInput")
        logic.updateNodeFromVolume(inputNode, damaged)
        maskNode = slicer.mrmlScene.AddNewNodeByClass("vtkMRMLLabelMapVolumeNode", "MedRestoreTestMask")
        logic.updateNodeFromVolume(maskNode, truth)

        self.delayDisplay("Filling the known defects (biharmonic 3-D) in a child process")
        run = prepare_restore(logic, inputNode, maskNode, method="biharmonic3d", device="cpu")
        try:
            status, monitor = self._runInBackground(run)
            self.assertEqual(status, 0, monitor.full_log())
            outputNode = run.collect(run)
        finally:
            run.cleanup()
        output = slicer.util.arrayFromVolume(outputNode)
        outside = truth.array == 0
        np.testing.assert_array_equal(output[outside], damaged.array[outside])
        np.testing.assert_array_equal(slicer.util.arrayFromVolume(inputNode), damaged.array)
        clean = read_volume(SAMPLE)
        before = psnr(clean.array, damaged.array, truth.array)
        after = psnr(clean.array, output, truth.array)
        self.assertGreater(after, before + 10.0)  # measured with the CLI here: 4.4 → 22.3 dB in 3.7 s
        slicer.util.setSliceViewerLayers(background=outputNode, label=maskNode, fit=True)
        self.delayDisplay(f"PSNR in the defects {before:.1f} → {after:.1f} dB")

    def test_BlindRestoreAddsNodesOnlyOnSuccess(self):
        from MedRestoreLib.logic import MedRestoreLogic
        from MedRestoreLib.mrml.node_files import prepare_restore
        from MedRestoreLib.sample_data import damaged_sample_files

        damagedPath, _ = damaged_sample_files(os.path.join(slicer.app.temporaryPath, "MedRestoreTest"))
        inputNode = slicer.util.loadVolume(str(damagedPath))
        run = prepare_restore(MedRestoreLogic(), inputNode, detector="median-mad", method="neighbour-median",
                              device="cpu")
        nodesBefore = slicer.mrmlScene.GetNumberOfNodes()
        try:
            status, monitor = self._runInBackground(run)
            self.assertEqual(status, 0, monitor.full_log())
            self.assertEqual(slicer.mrmlScene.GetNumberOfNodes(), nodesBefore)  # nothing added meanwhile
            self.assertGreater(len([line for line in monitor.log if '"progress"' in line]), 3)
            outputNode = run.collect(run)
        finally:
            run.cleanup()
        self.assertIsNotNone(outputNode.GetNodeReference("MedRestoreReport"))
        self.assertIsNotNone(outputNode.GetNodeReference("MedRestoreDefects"))
        self.delayDisplay("Background run passed")
