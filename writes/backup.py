"""Backup and restore: the whole dataset (every named graph, the hub's meta graph included) as
gzipped N-Quads with a manifest of checksums and counts.

A backup reads the store in one ``dump`` — one consistent snapshot, taken while the hub goes on
serving (``POST /admin/backup`` for a running embedded hub, ``chmkg backup`` otherwise). A restore
checks the archive's SHA-256 and its quad counts before it touches the store, loads into an empty
store (or replaces everything with ``force``), and checks the counts again after loading.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from ontology.errors import ChmError
from sparql.store import Store

ARCHIVE = "dataset.nq.gz"
MANIFEST = "manifest.json"


class BackupError(ChmError):
    code = "E801"
    http_status = 422


@dataclass
class Manifest:
    created: str
    quads: int
    graphs: dict[str, int]
    sha256: str
    bytes: int
    archive: str = ARCHIVE
    format: str = "application/n-quads+gzip"
    hub: str = "chm-knowledge-hub"
    extra: dict = field(default_factory=dict)


def _counts(nquads: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in ox.parse(nquads, ox.RdfFormat.N_QUADS):
        g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        counts[g] = counts.get(g, 0) + 1
    return counts


def backup(store: Store, folder: str | Path) -> Manifest:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / MANIFEST).exists():
        raise BackupError(f"{folder} already holds a backup; choose a new folder")
    data = store.dump(None, ox.RdfFormat.N_QUADS) or b""
    counts = _counts(data)
    packed = gzip.compress(data, compresslevel=6, mtime=0)
    tmp = folder / (ARCHIVE + ".part")
    with open(tmp, "wb") as f:
        f.write(packed)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(folder / ARCHIVE)
    manifest = Manifest(datetime.now(UTC).isoformat(timespec="seconds"), sum(counts.values()), counts,
                        hashlib.sha256(packed).hexdigest(), len(packed))
    (folder / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True), encoding="utf-8")
    return manifest


def read_manifest(folder: str | Path) -> tuple[Manifest, bytes]:
    """The manifest and the verified N-Quads of a backup; raises :class:`BackupError` otherwise."""
    folder = Path(folder)
    try:
        raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        manifest = Manifest(**raw)
    except FileNotFoundError:
        raise BackupError(f"{folder}: no {MANIFEST}; not a backup folder") from None
    except (ValueError, TypeError) as e:
        raise BackupError(f"{folder}/{MANIFEST}: not a backup manifest ({e})") from None
    try:
        packed = (folder / Path(manifest.archive).name).read_bytes()
    except FileNotFoundError:
        raise BackupError(f"{folder}: the archive {manifest.archive} is missing") from None
    digest = hashlib.sha256(packed).hexdigest()
    if digest != manifest.sha256:
        raise BackupError(f"{folder}: the archive's SHA-256 is {digest}, the manifest says {manifest.sha256}; "
                          "the backup is damaged — nothing was restored")
    try:
        data = gzip.decompress(packed)
    except (OSError, EOFError) as e:
        raise BackupError(f"{folder}: the archive does not decompress ({e})") from None
    if _counts(data) != manifest.graphs:
        raise BackupError(f"{folder}: the archive's quads do not match the manifest's counts; nothing was restored")
    return manifest, data


def restore(store: Store, folder: str | Path, force: bool = False) -> Manifest:
    manifest, data = read_manifest(folder)
    if store.named_graphs() and not force:
        raise BackupError("the store is not empty; restore into a fresh store, or pass --force to replace everything")
    if force:
        store.update("DROP SILENT ALL")
    _load(store, data)
    after = _counts(store.dump(None, ox.RdfFormat.N_QUADS) or b"")
    if after != manifest.graphs:
        raise BackupError(f"after loading, the store holds {sum(after.values()):,} quads in {len(after)} graphs; the backup "
                          f"has {manifest.quads:,} in {len(manifest.graphs)} — the restore is incomplete")
    return manifest


def _load(store: Store, data: bytes) -> None:
    raw = getattr(store, "raw", None)
    if raw is not None:  # embedded: one bulk load
        raw.bulk_load(data, ox.RdfFormat.N_QUADS)
        raw.flush()
        return
    by_graph: dict[str, list[bytes]] = {}
    for q in ox.parse(data, ox.RdfFormat.N_QUADS):
        g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
        by_graph.setdefault(g, []).append(f"{q.subject} {q.predicate} {q.object} .".encode())
    for g, lines in by_graph.items():
        for i in range(0, len(lines), 5000):
            chunk = b"\n".join(lines[i:i + 5000]).decode()
            store.update(f"INSERT DATA {{ GRAPH <{g}> {{ {chunk} }} }}" if g else f"INSERT DATA {{ {chunk} }}")
