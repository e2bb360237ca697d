"""Run a command the way an ordinary user would meet file permissions, even when the tests run as root.

CI runs the suite as root, and root reads a file whatever its mode (``CAP_DAC_OVERRIDE``), so a test of an
unreadable file would test nothing there. The child drops ``CAP_DAC_OVERRIDE`` and ``CAP_DAC_READ_SEARCH``
from its capability bounding set before it executes the command: still uid 0 (it can read its venv and the
test's files), but a file or folder whose mode says no is refused, as for anyone else.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2
ROOT = Path(__file__).resolve().parents[1]


def _drop_file_override() -> None:
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"cannot drop capability {capability}: {os.strerror(errno)}")


def run_without_file_override(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` (text output captured) without root's way around file permissions."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 120)
    return subprocess.run(args, preexec_fn=_drop_file_override, check=False, **kwargs)


def python_without_file_override(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with this interpreter, from the repository root, without root's file override."""
    return run_without_file_override([sys.executable, "-c", code], cwd=ROOT)
