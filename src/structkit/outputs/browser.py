"""Headless Chromium, for the PNG of a 3D view and the PDF of a report: found on PATH, run with
the network shut off (every host name resolves to nothing) and a throw-away profile."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["chromium", "identity", "render"]

VIRTUAL_TIME_MS = 20000  # time the page gets to run its scripts (3Dmol draws) before the output


def chromium() -> str:
    """The Chromium executable, or ``RuntimeError`` saying what is needed."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        raise RuntimeError("this output needs Chromium (chromium on PATH; .ci/run installs it)")
    return exe


def identity() -> str:
    """Which Chromium draws: the resolved binary with its size and modification time (part of
    the key of kept pictures; cheaper than starting it for ``--version``)."""
    exe = Path(chromium()).resolve()
    st = exe.stat()
    return f"{exe}:{st.st_size}:{st.st_mtime_ns}"


def render(page: str | Path, output_flag: str, *, window: tuple[int, int] | None = None,
           timeout: float = 180) -> None:
    """Run headless Chromium on a local ``page`` with ``output_flag`` (``--screenshot=FILE`` or
    ``--print-to-pdf=FILE``), offline, software WebGL."""
    with tempfile.TemporaryDirectory(prefix="structkit-chromium-") as profile:
        cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
               "--enable-unsafe-swiftshader", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               "--no-pdf-header-footer", "--host-resolver-rules=MAP * ~NOTFOUND",
               f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
               *([f"--window-size={window[0]},{window[1]}"] if window else []),
               output_flag, Path(page).resolve().as_uri()]
        subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
