"""The panel's Apply/Cancel/busy states, as the Qt panel drives them."""
from MedRestoreLib.background.panel_state import Buttons, Click, PanelState, Phase


def test_idle_apply_starts_and_needs_an_input():
    state = PanelState()
    assert state.click() == Click.START
    assert state.buttons(True, True, True) == Buttons("Apply", True, True, True)
    assert state.buttons(False, False, False) == Buttons("Apply", False, False, False)


def test_while_installing_nothing_can_start_a_second_install():
    # pip_install keeps Slicer processing events for minutes: a second click must do nothing.
    state = PanelState()
    assert state.begin_install()
    assert state.click() == Click.IGNORE
    assert not state.begin_install()  # the re-entrant call from that click is refused
    assert state.buttons(True, True, True) == Buttons("Apply", False, False, False)
    state.end_install()
    assert state.phase == Phase.IDLE and state.click() == Click.START


def test_running_apply_reads_cancel_and_cancels_once():
    state = PanelState()
    state.begin_install()
    state.end_install()
    state.begin_run()
    assert state.click() == Click.CANCEL
    assert state.buttons(True, True, True) == Buttons("Cancel", True, False, False)
    assert state.cancel()
    assert state.click() == Click.IGNORE and not state.cancel()
    assert state.buttons(True, True, True) == Buttons("Cancel", False, False, False)
    state.end_run()
    assert state.buttons(True, True, True) == Buttons("Apply", True, True, True)


def test_cancel_without_a_run_does_nothing():
    state = PanelState()
    assert not state.cancel() and state.phase == Phase.IDLE
