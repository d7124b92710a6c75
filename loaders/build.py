"""The default build: the bundled dataset, then the reference texts and example CHM records
from ../shared/data when that folder is present."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

from loaders.bundled import read_bundled
from loaders.cbd_reference import read_convention, read_targets
from loaders.chm_records import read_chm_records
from loaders.ingest import ParsedSource

EXAMPLE_RECORDS = ("example_record_event.json", "example_record_nationalTarget.json")


def build_sources(base: str, shared_data: Path | None) -> Iterator[Callable[[], ParsedSource]]:
    """Readers for the default build, in load order (each is called lazily)."""
    yield lambda: read_bundled(base)
    if shared_data is None or not Path(shared_data).is_dir():
        return
    data = Path(shared_data)
    if (data / "cbd-reference" / "targets").is_dir():
        yield lambda: read_targets(data / "cbd-reference" / "targets", base)
    if (data / "cbd-reference" / "convention-texts").is_dir():
        yield lambda: read_convention(data / "cbd-reference" / "convention-texts", base)
    records = [data / "chm-schemas" / name for name in EXAMPLE_RECORDS if (data / "chm-schemas" / name).is_file()]
    if records:
        yield lambda: read_chm_records(records, base, name="chm-examples")
