"""Carry the facts of the shared decision index into the bundled dataset (a maintainer's tool).

Reads ``<shared>/cbd-reference/decisions/decisions_index.csv`` and writes
``loaders/data/bundled/decision_index.csv``: per decision its canonical symbol, the short title the
index chose, the address of the source the title came from, and the index's own flags:

- ``inferred-symbol``: the source did not print the symbol; the index inferred it;
- ``weak-title``: the title comes from a descriptive mention, not a printed title line;
- ``sources-disagree``: another source gives a different title;
- ``list-title``: the title comes from a list or overview page, not the decision itself.

Run: ``.venv/bin/python scripts/import_decision_index.py ../shared/data``. The output is committed;
the hub never reads ../shared for these facts at run time.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ontology.symbols import parse_symbol  # noqa: E402

FLAGS = (("inferred", "inferred-symbol"), ("WEAK", "weak-title"), ("other source gives", "sources-disagree"),
         ("title taken from a list", "list-title"))


def main(shared: Path) -> None:
    rows = list(csv.DictReader((shared / "cbd-reference" / "decisions" / "decisions_index.csv").open(encoding="utf-8")))
    out = []
    for row in rows:
        symbol = parse_symbol(row["symbol"]).canonical
        flags = [flag for marker, flag in FLAGS if marker in row["note"]]
        out.append({"symbol": symbol, "title": row["title"].strip(), "source": row["source_url"].strip(),
                    "flags": ";".join(flags)})
    target = ROOT / "loaders" / "data" / "bundled" / "decision_index.csv"
    with target.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["symbol", "title", "source", "flags"], lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} decisions → {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
