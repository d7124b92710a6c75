"""Write harvest/data/shared-manifest.json: every file of ../shared/data with its size, SHA-256 and, for the
files that are byte copies of a public repository at a pinned commit (as each folder's SOURCES.md says),
the address to download it from. `chmkg data fetch` reads the manifest. A maintainer's tool:

    .venv/bin/python scripts/make_data_manifest.py ../shared/data
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
KMGBF = ("fvogel/KMGBF-Ontology", "b47f211602d140605d1edab937cc733beff3d97f")
GEMET = ("geonetwork/util-gemet", "b145c8d55579738ae6315c5fb052568dc1e67173")
OTV = ("besher-massri/OntologyTreeVisualizer", "14ec08cbbcda4191cdd5f505843c884975d187a2")
MELISH = ("melish/informea", "f1f26e5663d2dd3815726fc3af50a542d066e21f")
WWW = ("scbd/www.cbd.int", "9e0f78f123d293912dcd16730087d5050de15e26")
LAWS = ("statengeneraal/laws-markdown", "91556a80a25a3da4234c8039945c6aeef4108d00")
APIEX = ("scbd/api-examples", "b6655eac46c44f5577309a364bdb56192066a2e1")
ABSCH = ("scbd/absch.cbd.int", "ddbb08b00a72277a4bc6e83cf88e572b3cf4f966")
W3C = ("w3c/rdf-tests", "ad541a5f0479f0798608c4801369d97b8e08b36f")

# file under shared/data → (repository, commit, path upstream); what SOURCES.md calls a byte copy
COPIES: dict[str, tuple[tuple[str, str], str]] = {
    "gemet/gemet-en.skos.rdf": (GEMET, "thesauri/gemet-en.rdf"),
    "gemet/gemet-fr.skos.rdf": (GEMET, "thesauri/gemet-fr.rdf"),
    "informea-thesaurus/informea_terms_skosxl_2019.json": (OTV, "data/ontology.json"),
    "informea-thesaurus/informea_terms_definitions_topics_synonyms.raw.csv": (OTV, "data/definitions.csv"),
    "informea-thesaurus/informea_old_new_term_mappings.xlsx":
        (MELISH, "docroot/sites/all/modules/informea/thesaurus/data/informea-old-new-mappings.xlsx"),
    "informea-thesaurus/informea_foamtree_terms_hierarchy_draft.xlsx":
        (MELISH, "docroot/sites/all/modules/informea/thesaurus/foamtree/foamtree-terms.xlsx"),
    "cbd-reference/countries/informea_countries_multilingual.json": (MELISH, "docroot/sites/all/modules/informea/country/country.json"),
    "cbd-reference/countries/informea_country_unep_regions.json": (MELISH, "docroot/sites/all/modules/informea/country/regions.json"),
    "cbd-reference/targets/aichi_strategic_goals.json": (WWW, "app/data/aichi-targets/goals.json"),
    "cbd-reference/targets/aichi_targets_with_examples.json": (WWW, "app/data/aichi-targets/targets.json"),
    "cbd-reference/targets/aichi_targets_short_text.json": (WWW, "app/data/reports/aichiTargets.json"),
    "cbd-reference/targets/gbf_goals.json": (WWW, "app/data/gbf-targets/goals.json"),
    "cbd-reference/targets/gbf_targets.json": (WWW, "app/data/gbf-targets/targets.json"),
    "cbd-reference/convention-texts/cbd_convention_text_en_nl.md":
        (LAWS, "verdrag/convention/on/biological/diversity/BWBV0001136/README.md"),
    "cbd-reference/convention-texts/cartagena_protocol_text.md":
        (LAWS, "verdrag/cartagena/protocol/on/biosafety/to/the/convention/on/biological/diversity/BWBV0001513/README.md"),
    "cbd-reference/convention-texts/nagoya_protocol_text.md":
        (LAWS, "verdrag/nagoya/protocol/on/access/to/genetic/resources/and/the/fair/and/equitable/etc/BWBV0005631/README.md"),
    "chm-schemas/example_record_nationalTarget.json": (APIEX, "json-data/national-target.json"),
    "chm-schemas/chm_realm_configuration.json": (ABSCH, "app/app-data/chm/realm-configuration.json"),
    "chm-schemas/abs_realm_configuration.json": (ABSCH, "app/app-data/abs/realm-configuration.json"),
    "chm-schemas/bch_realm_configuration.json": (ABSCH, "app/app-data/bch/realm-configuration.json"),
}
PREFIX_COPIES = {  # folders copied with their upstream layout
    "kmgbf-ontology/": (KMGBF, ""),
    "w3c-tests/": (W3C, ""),
}
NOT_COPIES = {"SOURCES.md"}


def upstream(rel: str) -> str | None:
    if Path(rel).name in NOT_COPIES:
        return None
    if rel in COPIES:
        (repo, commit), path = COPIES[rel]
        return RAW.format(repo=repo, commit=commit, path=path)
    for prefix, ((repo, commit), under) in PREFIX_COPIES.items():
        if rel.startswith(prefix):
            return RAW.format(repo=repo, commit=commit, path=under + rel[len(prefix):])
    return None


def main(shared: Path) -> None:
    files = []
    for path in sorted(p for p in shared.rglob("*") if p.is_file()):
        rel = path.relative_to(shared).as_posix()
        data = path.read_bytes()
        entry = {"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        url = upstream(rel)
        if url:
            entry["url"] = url
        files.append(entry)
    manifest = {"about": "The files of ../shared/data the hub reads, with their SHA-256; `url` where SOURCES.md names a "
                         "byte-for-byte public copy at a pinned commit. Files without `url` are derived (see each SOURCES.md) "
                         "and come only from a mirror of the shared data (chmkg data fetch --mirror URL).",
                "files": files}
    target = ROOT / "harvest" / "data" / "shared-manifest.json"
    target.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(files)} files ({sum(1 for f in files if 'url' in f)} with a public address) → {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data"))
