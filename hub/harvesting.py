"""Running harvests for the CLI and the served hub: one run, and the schedule.

A run takes the writer lock for each batch it commits (the hub's own write lock too when served), so
it interleaves with editors' and submitters' writes instead of holding the store for minutes. Each
run is audited (one line: who, which source, the counts).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from harvest.client import Politeness
from harvest.engine import Harvester, HarvestReport
from harvest.sources import SOURCES
from harvest.state import State
from hub.service import append_audit
from hub.settings import Settings
from hub.tracking import refresh
from ontology.errors import BadParameter
from sparql.store import Store
from writes.commit import WriterLock

log = logging.getLogger(__name__)


def make_source(settings: Settings, name: str, options: dict[str, str] | None = None):
    if name not in SOURCES:
        raise BadParameter(f"unknown harvest source {name!r} (known: {', '.join(SOURCES)})")
    merged = {**settings.harvest_option_map(name), **(options or {})}
    return SOURCES[name](settings.base, merged)


def run_harvest(settings: Settings, store: Store, name: str, *, url: str | None = None, since: datetime | None = None,
                full: bool = False, limit: int | None = None, options: dict[str, str] | None = None,
                politeness: Politeness | None = None, write: Callable[[Callable[[], Any]], Any] | None = None,
                lock: Callable[[], AbstractContextManager] | None = None,
                progress: Callable[[HarvestReport], None] | None = None, who: str = "harvest",
                batch: int | None = None) -> HarvestReport:
    source = make_source(settings, name, options)
    base_url = url or settings.harvest_url(name) or source.default_url
    if not base_url or not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", base_url):
        raise BadParameter(f"harvest {name}: give the source's address with --url (an http(s) URL without spaces, "
                           f"quotes or angle brackets); got {base_url!r}")
    if limit is not None and limit < 1:
        raise BadParameter("--limit must be at least 1")
    state = State(settings.harvest_state_path)
    try:
        harvester = Harvester(store, state, source, base_url, settings.meta_graph,
                              politeness=politeness or Politeness(rate=settings.harvest_rate), write=write,
                              lock=lock or (lambda: WriterLock(settings.writer_lock_path)), progress=progress,
                              # alone with an embedded store (the CLI; the served hub passes its write): bulk additions
                              bulk=write is None and store.mode == "embedded",
                              parallel_map=write is None,  # the CLI has the cores: map in a process of its own
                              **({"batch": batch} if batch else {}))
        report = harvester.run(since=since, full=full, limit=limit)
    finally:
        state.close()
    append_audit(settings.audit_path, who, f"harvest {source.name} from {base_url}" + (" (full)" if full else ""),
                 report.status, f"new {report.new}, changed {report.changed}, removed {report.removed}, "
                                 f"refused {len(report.refused)}")
    if name in TRACKED and (report.new or report.changed or report.removed):
        rederive(settings, store, write, lock, who)
    return report


TRACKED = {"cbd-decisions", "informea"}  # sources that bring decisions and their elements


def rederive(settings: Settings, store: Store, write: Callable[[Callable[[], Any]], Any] | None = None,
             lock: Callable[[], AbstractContextManager] | None = None, who: str = "harvest") -> None:
    """Derive the decision-tracking statuses again after a harvest changed decisions (one write)."""
    def run():
        return refresh(store, settings)[1]

    if write is not None:
        result = write(run)
    else:
        with (lock or (lambda: WriterLock(settings.writer_lock_path)))():
            result = run()
    append_audit(settings.audit_path, who, "derive decision-tracking statuses after a harvest", result.status,
                 f"{result.triples} triples")


def harvest_status(settings: Settings, limit: int = 20) -> dict[str, Any]:
    """The last runs and the quarantine, for ``chmkg harvests``, ``/healthz`` and the admin page."""
    if not settings.harvest_state_path.exists():
        return {"runs": [], "quarantine": [], "records": {}}
    state = State(settings.harvest_state_path)
    try:
        runs = state.runs(limit)
        records = {row[0]: row[1] for row in state.db.execute("SELECT source, COUNT(*) FROM record GROUP BY source")}
        return {"runs": runs, "quarantine": state.quarantine(), "records": records}
    finally:
        state.close()


class Scheduler:
    """Harvests on a schedule in the served hub (``harvest_schedule``): one daemon thread, one run at a time."""

    def __init__(self, settings: Settings, store: Store, write: Callable[[Callable[[], Any]], Any],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.store = store
        self.write = write
        self.schedule = settings.harvest_schedule_map()
        for name, seconds in self.schedule.items():
            make_source(settings, name)  # unknown names fail at start-up, not at the first run
            if seconds < 60:
                raise BadParameter(f"harvest_schedule: {name}={seconds:g} — at least 60 seconds between runs")
        self.clock = clock
        self.next_due = {name: clock() for name in self.schedule}
        self.last: dict[str, dict[str, Any]] = {}
        self.running: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.schedule and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="harvest-scheduler", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def due(self) -> list[str]:
        now = self.clock()
        return [name for name, when in self.next_due.items() if when <= now]

    def run_due(self) -> None:
        for name in self.due():
            if self._stop.is_set():
                return
            self.running = name
            try:
                # the hub's write() takes the writer lock itself: the run must not take it a second time
                report = run_harvest(self.settings, self.store, name, write=self.write, lock=nullcontext, who="scheduler")
                self.last[name] = {"status": report.status, "ended": report.ended, "new": report.new,
                                   "changed": report.changed, "removed": report.removed,
                                   "refused": len(report.refused), "message": report.message}
            except Exception as e:  # noqa: BLE001 - a failed run is reported; the next one is scheduled
                log.warning("scheduled harvest of %s failed: %s", name, e)
                self.last[name] = {"status": "failed", "message": str(e)}
            finally:
                self.running = None
                self.next_due[name] = self.clock() + self.schedule[name]

    def _loop(self) -> None:
        while not self._stop.wait(5.0):
            self.run_due()

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {name: {"every_s": self.schedule[name], "due_in_s": max(0, round(self.next_due[name] - now)),
                       "running": self.running == name, "last": self.last.get(name)} for name in self.schedule}
