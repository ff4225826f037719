"""Native libraries' own prints to stderr are captured, not shown."""
import subprocess
import sys


def test_what_c_code_prints_to_descriptor_2_is_captured():
    code = ("import os, sys\n"
            "from MedRestoreLib.native_stderr import captured_native_stderr\n"
            "with captured_native_stderr() as printed:\n"
            "    os.write(2, b'noise from C\\n')\n"
            "print('captured:', printed[0].strip(), file=sys.stderr)\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.stderr == "captured: noise from C\n"
