"""Serve a store with `chmkg serve` for a bench: a free port on 127.0.0.1, a bounded wait for
/healthz, and a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(store: str, base: str, wait: float = 180, env: dict[str, str] | None = None):
    """The URL of a hub serving ``store`` (rate limit off: one load generator is one client), with
    ``env`` added to its environment (settings such as a remote store)."""
    port = free_port()
    proc = subprocess.Popen([str(BIN / "chmkg"), "--store", store, "--base", base, "serve", "--port", str(port),
                             "--no-build-if-missing"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "CHMKG_RATE_LIMIT": "0", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:  # bounded wait for the server
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the hub did not start")
            time.sleep(0.2)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
