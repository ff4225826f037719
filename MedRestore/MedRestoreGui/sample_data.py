"""Registers "MedRestore damaged brain MRI" in Slicer's Sample Data module.

The sample is made from the MRI that ships inside the extension (``MedRestoreLib.sample_data``),
so loading it needs no network. SampleData calls ``customDownloader(source)`` when its button
is pressed; the damaged volume and its true defects (a label map) are loaded from the cache.
"""
import os

import slicer

from MedRestoreLib import sample_data


def _cacheFolder():
    return os.path.join(slicer.app.cachePath, "MedRestore")


def loadDamagedSample(source=None):
    """Load the damaged sample and its true defect mask; returns the damaged volume node."""
    damagedPath, truthPath = sample_data.damaged_sample_files(_cacheFolder())
    volume = slicer.util.loadVolume(str(damagedPath), {"name": sample_data.NODE_NAME})
    slicer.util.loadLabelVolume(str(truthPath), {"name": sample_data.TRUTH_NODE_NAME, "show": False})
    slicer.util.setSliceViewerLayers(background=volume, label=None, fit=True)
    return volume


def registerSampleData(iconPath):
    """Add the sample to the Sample Data module (call from the module's startupCompleted)."""
    import SampleData

    damagedPath, _ = sample_data.sample_paths(_cacheFolder())
    # SampleDataSource needs uris, fileNames and nodeNames of equal length; the file URI is only
    # descriptive: the custom downloader makes the file from bundled data, nothing is fetched.
    SampleData.SampleDataLogic.registerCustomSampleDataSource(
        category=sample_data.CATEGORY,
        sampleName=sample_data.SAMPLE_NAME,
        thumbnailFileName=iconPath,
        uris=[damagedPath.as_uri()],
        fileNames=[damagedPath.name],
        nodeNames=[sample_data.NODE_NAME],
        customDownloader=loadDamagedSample,
    )
