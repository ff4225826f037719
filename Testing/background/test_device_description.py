"""What the panel says about devices, on this machine's real torch (a CPU build here)."""
import pytest

from MedRestoreLib.background.device_description import DeviceDescription, describe_devices, summary, why_no_gpu

torch = pytest.importorskip("torch")


def test_the_cpu_is_always_listed_last_with_its_cores():
    devices = describe_devices()
    assert devices[-1].kind == "cpu" and devices[-1].name == "cpu"
    assert "cores" in devices[-1].describe()
    cuda_count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert len([d for d in devices if d.kind == "cuda"]) == cuda_count


def test_every_gpu_shows_its_memory():
    for device in describe_devices():
        if device.kind == "cuda":
            assert device.memory_total_gb > 0 and f"{device.memory_total_gb:.1f} GB" in device.describe()


def test_without_a_gpu_the_panel_says_why():
    text = summary(describe_devices())
    if torch.cuda.is_available():
        assert text.startswith("GPU 0:") and why_no_gpu() == ""
    else:
        assert text.startswith("No GPU: ") and why_no_gpu() in text
        if torch.version.cuda is None:
            assert "CPU-only build" in text


def test_gpu_lines_read_as_users_expect():
    gpu = DeviceDescription("cuda", "cuda:1", "NVIDIA H100 80GB HBM3", 79.1, 78.64)
    assert gpu.describe() == "GPU 1: NVIDIA H100 80GB HBM3, 79.1 GB (78.6 GB free)"
    cpu = DeviceDescription("cpu", "cpu", "CPU: 16 cores", 125.8)
    assert summary([gpu, cpu]) == "GPU 1: NVIDIA H100 80GB HBM3, 79.1 GB (78.6 GB free) · CPU: 16 cores, 125.8 GB"


def test_the_panel_s_child_prints_the_summary_the_panel_shows():
    # What DevicesProbe runs: the child imports torch, Slicer's process never does.
    import subprocess

    from MedRestoreLib.background.device_description import summary_from_json
    from MedRestoreLib.background.run import child_environment, devices_command

    result = subprocess.run(devices_command(), env=child_environment(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = ["a warning torch printed"] + result.stdout.splitlines()
    assert summary_from_json(lines) == summary(describe_devices())
    assert summary_from_json(["not json", "{}", "[1]"]) is None
