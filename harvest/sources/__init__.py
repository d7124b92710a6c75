"""The harvest sources, one module each, registered by name."""

from __future__ import annotations

from harvest.sources.base import Item, Mapped, Source, FetchContext
from harvest.sources.bioland import Bioland
from harvest.sources.cbd_decisions import CbdDecisions
from harvest.sources.cbd_index import CbdIndex
from harvest.sources.cbd_thesaurus import CbdThesaurus
from harvest.sources.chm_records import ChmRecords
from harvest.sources.informea import Informea

SOURCES: dict[str, type[Source]] = {s.name: s for s in (CbdDecisions, CbdIndex, ChmRecords, CbdThesaurus, Informea, Bioland)}

__all__ = ["SOURCES", "FetchContext", "Item", "Mapped", "Source"]
