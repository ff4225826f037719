"""The out-of-memory policy, on the CPU, with torch's real exception class (no mocks of torch)."""
import pytest

torch = pytest.importorskip("torch")

from MedRestoreLib.oom_fallback import Attempt, fallback_plan, run_with_oom_fallback  # noqa: E402


class SmallGpu:
    """A real function that raises torch's CUDA out-of-memory error when a tile needs more than
    ``budget`` slices' worth of memory on "cuda", and computes a real tensor result otherwise."""

    def __init__(self, budget):
        self.budget = budget
        self.calls = []

    def __call__(self, device, tile):
        self.calls.append((device, tile))
        if device == "cuda" and tile > self.budget:
            raise torch.cuda.OutOfMemoryError(
                f"CUDA out of memory. Tried to allocate {tile} GiB (GPU 0; {self.budget} GiB free)")
        volume = torch.arange(24, dtype=torch.float32).reshape(4, 6)
        return sum(float(block.sum()) for block in torch.split(volume, tile))


def test_plan_halves_the_tile_then_moves_to_the_cpu():
    assert fallback_plan("cuda", 8) == [Attempt("cuda", 8), Attempt("cuda", 4, True), Attempt("cuda", 2, True),
                                       Attempt("cuda", 1, True), Attempt("cpu", 8, True)]
    assert fallback_plan("cuda", 8, min_tile=4)[-2:] == [Attempt("cuda", 4, True), Attempt("cpu", 8, True)]
    assert fallback_plan("cpu", 8) == [Attempt("cpu", 8)]
    with pytest.raises(ValueError):
        fallback_plan("cuda", 0)


def test_smaller_tiles_are_tried_first_and_the_user_is_told():
    work, notices = SmallGpu(budget=2), []
    result, attempt = run_with_oom_fallback(work, "cuda", 8, notify=notices.append)
    assert result == float(sum(range(24)))
    assert attempt == Attempt("cuda", 2, True)
    assert work.calls == [("cuda", 8), ("cuda", 4), ("cuda", 2)]
    assert len(notices) == 2 and "retrying with tiles of 4" in notices[0]
    assert notices[0].startswith("CUDA ran out of memory with tiles of 8")


def test_the_cpu_takes_over_when_no_tile_fits():
    work, notices = SmallGpu(budget=0), []
    result, attempt = run_with_oom_fallback(work, "cuda", 4, notify=notices.append)
    assert attempt == Attempt("cpu", 4, True) and result == float(sum(range(24)))
    assert work.calls[-1] == ("cpu", 4) and notices[-1].endswith("retrying on the CPU")


def test_no_retry_when_the_first_try_fits_or_the_device_is_the_cpu():
    work = SmallGpu(budget=8)
    assert run_with_oom_fallback(work, "cuda", 8)[1] == Attempt("cuda", 8)
    assert work.calls == [("cuda", 8)]


def test_other_errors_are_not_retried():
    calls = []

    def broken(device, tile):
        calls.append(device)
        raise ValueError("a bug, not memory")

    with pytest.raises(ValueError):
        run_with_oom_fallback(broken, "cuda", 8)
    assert calls == ["cuda"]


def test_out_of_memory_on_the_last_attempt_is_raised():
    def always(device, tile):
        raise torch.cuda.OutOfMemoryError("out of memory")

    with pytest.raises(torch.cuda.OutOfMemoryError):
        run_with_oom_fallback(always, "cuda", 2)


def test_the_detector_accepts_any_slab_with_the_same_result():
    # The fallback reruns the detector with a smaller slab: it must not change the answer.
    import numpy as np

    from MedRestoreLib.detection.detector import run_detector
    from MedRestoreLib.options import DetectOptions
    from Testing.phantoms import head_phantom

    array = head_phantom().array[:12, 12:28, 12:28].astype(np.float64)
    array[5, 6:9, 6:9] = array.max() * 3
    full, _ = run_detector(array, DetectOptions(), "cpu")
    sliced, _ = run_detector(array, DetectOptions(), "cpu", slab=5)  # 12 = 5 + 5 + 2
    np.testing.assert_allclose(full, sliced, atol=1e-5)
