"""What the harvester remembers between runs, in one SQLite file per store (``<store>-hub/harvest.sqlite``).

Per source and record: the checksum of its mapped triples, the source's revision, the conditional
request validators, and the triples themselves (compressed), so a changed or vanished record's old
triples can be removed exactly. Triples that several records state (a concept scheme, a shared
concept) are counted, and leave the store when the last record stating them does. Also: the
checkpoint of an unfinished run, the quarantine (records refused, with the shapes' report), and the
runs. The store is written first and this file after, in one SQLite transaction per batch: a run
killed between the two is repaired by the next, since applying the same change twice is a no-op.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS record (
  source TEXT NOT NULL, key TEXT NOT NULL, checksum TEXT NOT NULL, revision TEXT, etag TEXT, modified TEXT,
  own BLOB NOT NULL, shared BLOB NOT NULL, seen TEXT NOT NULL, PRIMARY KEY (source, key));
CREATE TABLE IF NOT EXISTS shared (source TEXT NOT NULL, line BLOB NOT NULL, refs INTEGER NOT NULL,
  PRIMARY KEY (source, line));
CREATE TABLE IF NOT EXISTS quarantine (source TEXT NOT NULL, key TEXT NOT NULL, reason TEXT NOT NULL,
  report TEXT, payload TEXT, at TEXT NOT NULL, PRIMARY KEY (source, key));
CREATE TABLE IF NOT EXISTS checkpoint (source TEXT PRIMARY KEY, run TEXT NOT NULL, cursor TEXT NOT NULL,
  full INTEGER NOT NULL, started TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS run (id TEXT PRIMARY KEY, source TEXT NOT NULL, started TEXT NOT NULL, ended TEXT,
  status TEXT NOT NULL, report TEXT);
"""


def pack(lines: Iterable[bytes]) -> bytes:
    return zlib.compress(b"\n".join(lines), 1)


def unpack(blob: bytes) -> list[bytes]:
    data = zlib.decompress(blob)
    return data.split(b"\n") if data else []


@dataclass
class Known:
    checksum: str
    revision: str | None
    etag: str | None
    modified: str | None


class State:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # records
    def known(self, source: str) -> dict[str, Known]:
        rows = self.db.execute("SELECT key, checksum, revision, etag, modified FROM record WHERE source = ?", (source,))
        return {k: Known(c, r, e, m) for k, c, r, e, m in rows}

    def lines(self, source: str, key: str) -> tuple[list[bytes], list[bytes]] | None:
        row = self.db.execute("SELECT own, shared FROM record WHERE source = ? AND key = ?", (source, key)).fetchone()
        return (unpack(row[0]), unpack(row[1])) if row else None

    def shared_refs(self, source: str, lines: Iterable[bytes]) -> dict[bytes, int]:
        out: dict[bytes, int] = {}
        items = list(set(lines))
        for i in range(0, len(items), 500):
            chunk = items[i:i + 500]
            q = "SELECT line, refs FROM shared WHERE source = ? AND line IN (" + ",".join("?" * len(chunk)) + ")"
            out.update({bytes(line): refs for line, refs in self.db.execute(q, (source, *chunk))})
        return out

    def apply(self, source: str, upserts: list[tuple[str, str, str | None, str | None, str | None, list[bytes], list[bytes]]],
              deletes: list[str], shared_delta: dict[bytes, int], seen: str, quarantined: list[tuple[str, str, str, str]],
              released: list[str], checkpoint: tuple[str, str, bool, str] | None) -> None:
        """One batch's bookkeeping, in one transaction (after the store has committed the batch)."""
        db = self.db
        at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO record (source, key, checksum, revision, etag, modified, own, shared, seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(source, k, c, r, e, m, pack(own), pack(sh), seen) for k, c, r, e, m, own, sh in upserts])
            db.executemany("DELETE FROM record WHERE source = ? AND key = ?", [(source, k) for k in deletes])
            for line, delta in shared_delta.items():
                if not delta:
                    continue
                db.execute("INSERT INTO shared (source, line, refs) VALUES (?, ?, ?) "
                           "ON CONFLICT (source, line) DO UPDATE SET refs = refs + excluded.refs", (source, line, delta))
            db.execute("DELETE FROM shared WHERE source = ? AND refs <= 0", (source,))
            db.executemany("INSERT OR REPLACE INTO quarantine (source, key, reason, report, payload, at) VALUES (?, ?, ?, ?, ?, ?)",
                           [(source, k, reason, report, payload, at) for k, reason, report, payload in quarantined])
            db.executemany("DELETE FROM quarantine WHERE source = ? AND key = ?", [(source, k) for k in released])
            if checkpoint:
                run, cursor, full, started = checkpoint
                db.execute("INSERT OR REPLACE INTO checkpoint (source, run, cursor, full, started) VALUES (?, ?, ?, ?, ?)",
                           (source, run, cursor, int(full), started))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def touch(self, source: str, keys: list[str], seen: str) -> None:
        """Mark unchanged records as seen by this run (a full sweep removes the others)."""
        self.db.executemany("UPDATE record SET seen = ? WHERE source = ? AND key = ?", [(seen, source, k) for k in keys])

    def unseen(self, source: str, seen: str) -> list[str]:
        return [k for (k,) in self.db.execute("SELECT key FROM record WHERE source = ? AND seen != ?", (source, seen))]

    def count(self, source: str) -> int:
        return self.db.execute("SELECT COUNT(*) FROM record WHERE source = ?", (source,)).fetchone()[0]

    def iter_keys(self, source: str) -> Iterator[str]:
        for (k,) in self.db.execute("SELECT key FROM record WHERE source = ? ORDER BY key", (source,)):
            yield k

    # checkpoints and runs
    def checkpoint(self, source: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT run, cursor, full, started FROM checkpoint WHERE source = ?", (source,)).fetchone()
        if not row:
            return None
        return {"run": row[0], "cursor": json.loads(row[1]), "full": bool(row[2]), "started": row[3]}

    def clear_checkpoint(self, source: str) -> None:
        self.db.execute("DELETE FROM checkpoint WHERE source = ?", (source,))

    def start_run(self, run_id: str, source: str, started: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO run (id, source, started, status) VALUES (?, ?, ?, 'running')",
                        (run_id, source, started))

    def end_run(self, run_id: str, ended: str, status: str, report: dict[str, Any]) -> None:
        self.db.execute("UPDATE run SET ended = ?, status = ?, report = ? WHERE id = ?",
                        (ended, status, json.dumps(report), run_id))

    def last_run(self, source: str, status: str = "ok") -> dict[str, Any] | None:
        row = self.db.execute("SELECT id, started, ended, status, report FROM run WHERE source = ? AND status = ? "
                              "ORDER BY started DESC LIMIT 1", (source, status)).fetchone()
        if not row:
            return None
        return {"id": row[0], "started": row[1], "ended": row[2], "status": row[3],
                "report": json.loads(row[4]) if row[4] else None}

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, source, started, ended, status, report FROM run ORDER BY started DESC LIMIT ?", (limit,))
        return [{"id": i, "source": s, "started": st, "ended": e, "status": stt, "report": json.loads(r) if r else None}
                for i, s, st, e, stt, r in rows]

    def quarantine(self, source: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT source, key, reason, report, at FROM quarantine" + (" WHERE source = ?" if source else "") + " ORDER BY source, key"
        rows = self.db.execute(q, (source,) if source else ())
        return [{"source": s, "key": k, "reason": r, "report": rep, "at": at} for s, k, r, rep, at in rows]
