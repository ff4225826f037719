"""Shows what a restore changed: the repaired volume in the slice views with the defect
segmentation over it, the probability map as an optional foreground, a before/after switch
and the report table."""
import slicer

from MedRestoreLib.logic import DEFECTS_REFERENCE, PROBABILITY_REFERENCE, REPORT_REFERENCE

PROBABILITY_OPACITY = 0.5


class ResultsView:
    """Drives the panel's Results section for the last finished restore."""

    def __init__(self, ui):
        self.ui = ui
        self.inputNode = None
        self.outputNode = None
        ui.beforeAfterButton.connect("toggled(bool)", self.onBeforeAfterToggled)
        ui.showProbabilityCheckBox.connect("toggled(bool)", self.onShowProbabilityToggled)
        self.clear()

    def clear(self):
        self.inputNode = self.outputNode = None
        self.ui.beforeAfterButton.checked = False
        self.ui.beforeAfterButton.enabled = False
        self.ui.showProbabilityCheckBox.checked = False
        self.ui.showProbabilityCheckBox.enabled = False
        self.ui.reportTableView.setMRMLTableNode(None)

    def show(self, inputNode, outputNode):
        """Put ``outputNode`` in the slice views with its defects overlaid, and its report here."""
        self.inputNode, self.outputNode = inputNode, outputNode
        segmentation = outputNode.GetNodeReference(DEFECTS_REFERENCE)
        if segmentation is not None and segmentation.GetDisplayNode() is not None:
            display = segmentation.GetDisplayNode()
            display.SetVisibility(True)
            display.SetVisibility2DFill(True)
            display.SetVisibility2DOutline(True)
            display.SetOpacity2DFill(0.35)
        probability = outputNode.GetNodeReference(PROBABILITY_REFERENCE)
        if probability is not None and probability.GetDisplayNode() is not None:
            redTable = slicer.mrmlScene.GetNodeByID("vtkMRMLColorTableNodeRed")
            if redTable is not None:
                probability.GetDisplayNode().SetAndObserveColorNodeID(redTable.GetID())
        self.ui.beforeAfterButton.checked = False
        self.ui.beforeAfterButton.enabled = True
        self.ui.showProbabilityCheckBox.checked = False
        self.ui.showProbabilityCheckBox.enabled = probability is not None
        self.ui.reportTableView.setMRMLTableNode(outputNode.GetNodeReference(REPORT_REFERENCE))
        self._updateViews(fit=True)

    @staticmethod
    def showImputedSeries(output):
        """Show an imputed table in the table view, or an imputed sequence in the slice views."""
        if output.IsA("vtkMRMLTableNode"):
            slicer.app.applicationLogic().GetSelectionNode().SetActiveTableID(output.GetID())
            slicer.app.applicationLogic().PropagateTableSelection()
            return
        browser = slicer.modules.sequences.logic().GetFirstBrowserNodeForSequenceNode(output)
        proxy = browser.GetProxyNode(output) if browser is not None else None
        if proxy is not None:
            slicer.util.setSliceViewerLayers(background=proxy, fit=True)

    def onBeforeAfterToggled(self, showOriginal):
        self.ui.beforeAfterButton.text = "Show repaired (after)" if showOriginal else "Show original (before)"
        self._updateViews()

    def onShowProbabilityToggled(self, checked):
        self._updateViews()

    def _updateViews(self, fit=False):
        if self.outputNode is None or self.outputNode.GetScene() is None:
            return
        background = self.inputNode if self.ui.beforeAfterButton.checked else self.outputNode
        probability = self.outputNode.GetNodeReference(PROBABILITY_REFERENCE)
        showProbability = bool(self.ui.showProbabilityCheckBox.checked and probability is not None)
        slicer.util.setSliceViewerLayers(
            background=background, foreground=probability if showProbability else None,
            foregroundOpacity=PROBABILITY_OPACITY if showProbability else 0.0, fit=fit)
