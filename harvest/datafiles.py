"""Getting ``../shared/data`` on a machine that has none: ``chmkg data fetch``.

The manifest (``harvest/data/shared-manifest.json``, written by ``scripts/make_data_manifest.py``) lists
every file with its size and SHA-256, and — for the files that are byte copies of a public repository at
a pinned commit — the address to download it from. A mirror of the shared data (a server laying the
files out as the folder does) can serve every file, the derived ones included. Each file is streamed to a
temporary name, its checksum computed on the way, and renamed into place only when it matches: a
mismatch, a cut connection or a full disk leaves no partial file. A host that cannot be reached is not
asked again in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from harvest.client import USER_AGENT

CHUNK = 1 << 16


@dataclass
class FetchReport:
    target: str
    fetched: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # path, reason
    unavailable: list[str] = field(default_factory=list)  # derived files without a mirror

    @property
    def complete(self) -> bool:
        return not self.failed and not self.unavailable

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "complete": self.complete}

    def summary(self) -> str:
        return (f"{len(self.fetched)} fetched, {len(self.present)} already present, {len(self.failed)} failed, "
                f"{len(self.unavailable)} not downloadable without a mirror")


def manifest() -> dict[str, Any]:
    return json.loads(files("harvest").joinpath("data", "shared-manifest.json").read_text(encoding="utf-8"))


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def check(folder: Path, only: list[str] | None = None) -> dict[str, list[str]]:
    """Which manifest files ``folder`` holds as they should be, which are missing, which differ."""
    out: dict[str, list[str]] = {"ok": [], "missing": [], "different": []}
    for entry in _entries(only):
        path = folder / entry["path"]
        if not path.is_file():
            out["missing"].append(entry["path"])
        elif path.stat().st_size != entry["size"] or sha256_of(path) != entry["sha256"]:
            out["different"].append(entry["path"])
        else:
            out["ok"].append(entry["path"])
    return out


def _entries(only: list[str] | None) -> list[dict[str, Any]]:
    entries = manifest()["files"]
    if only:
        entries = [e for e in entries if any(e["path"] == o or e["path"].startswith(o.rstrip("/") + "/") for o in only)]
    return entries


def fetch(to: Path, *, mirror: str | None = None, only: list[str] | None = None, timeout: float = 30.0,
          use_upstream: bool = True) -> FetchReport:
    """Download the manifest's files into ``to`` (laid out as ``../shared/data``), checking each."""
    report = FetchReport(str(to))
    unreachable: dict[str, str] = {}
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), follow_redirects=True,
                      headers={"User-Agent": USER_AGENT}) as client:
        for entry in _entries(only):
            rel = entry["path"]
            path = to / rel
            if path.is_file() and path.stat().st_size == entry["size"] and sha256_of(path) == entry["sha256"]:
                report.present.append(rel)
                continue
            urls = []
            if mirror:
                urls.append(mirror.rstrip("/") + "/" + quote(rel))
            if use_upstream and entry.get("url"):
                urls.append(entry["url"])
            if not urls:
                report.unavailable.append(rel)
                continue
            reasons = []
            for url in urls:
                host = urlsplit(url).netloc
                if host in unreachable:
                    reasons.append(f"{host}: {unreachable[host]}")
                    continue
                reason = _download(client, url, path, entry)
                if reason is None:
                    report.fetched.append(rel)
                    break
                if reason.startswith("no network"):
                    unreachable[host] = reason
                reasons.append(f"{url}: {reason}")
            else:
                report.failed.append({"path": rel, "reason": "; ".join(reasons)})
    return report


def _download(client: httpx.Client, url: str, path: Path, entry: dict[str, Any]) -> str | None:
    """Stream ``url`` into ``path`` through a temporary file; None when it arrived whole and matching."""
    tmp = path.with_name(path.name + ".part")
    h = hashlib.sha256()
    size = 0
    try:
        with client.stream("GET", url) as r:
            if r.status_code != 200:
                return f"HTTP {r.status_code}"
            path.parent.mkdir(parents=True, exist_ok=True)  # only once there is something to write
            with tmp.open("wb") as f:
                for chunk in r.iter_bytes(CHUNK):
                    size += len(chunk)
                    if size > entry["size"]:
                        return f"larger than the manifest's {entry['size']} bytes"
                    h.update(chunk)
                    f.write(chunk)
        if h.hexdigest() != entry["sha256"]:
            return f"checksum mismatch (SHA-256 {h.hexdigest()[:16]}…, the manifest says {entry['sha256'][:16]}…)"
        os.replace(tmp, path)
        return None
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        return f"no network ({type(e).__name__}: {e})"
    except httpx.HTTPError as e:
        return f"{type(e).__name__}: {e}"
    except OSError as e:
        return f"cannot write {path}: {e.strerror or e}"
    finally:
        tmp.unlink(missing_ok=True)
