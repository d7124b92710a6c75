"""The import contracts in pyproject.toml ([tool.importlinter]) hold: packages layered one way, the CLI
never imports the web app, routers independent, no import cycle between sibling modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout and "BROKEN" not in r.stdout


def test_hub_cli_loads_without_the_web_layer():
    """Importing the CLI (every command module) pulls in nothing from hub.web."""
    code = "import sys, hub.cli; bad = [m for m in sys.modules if m.startswith('hub.web')]; print(bad); sys.exit(1 if bad else 0)"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
