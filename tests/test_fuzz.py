"""Fuzzing with a fixed budget: the HTTP API from its OpenAPI description (schemathesis, against a
live hub), and the parsers and the reference extractor with property-based tests (hypothesis).
Finding: any 500 from the API, any exception other than the documented error types."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ontology.errors import ChmError, SymbolError
from ontology.symbols import parse_symbol
from sparql.lexer import analyse
from tagging.documents import DocumentError, extract
from tagging.references import extract_references
from thesaurus.spreadsheet import SheetError, read_sheet

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402

from conftest import start_live_hub  # noqa: E402

pytestmark = pytest.mark.slow

BUDGET = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    hub, stop = start_live_hub(tmp_path_factory.mktemp("fuzz"), "embedded")
    hub.fuzz_token = hub.hub.tokens.create("fuzz", "admin")
    yield hub
    stop()


def test_the_api_never_answers_500(live):
    """Every operation of the OpenAPI description, 15 generated requests each, anonymous and as an
    admin (schemathesis strategies driven by hypothesis; its pytest plugin does not run on pytest 9,
    so the loop is ours)."""
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 40
    failures = []
    auth = {"Authorization": f"Bearer {live.fuzz_token}"}
    for op in operations:
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=op.as_strategy())
        def run(case):
            case.call_and_validate(checks=[not_a_server_error], timeout=30)  # as anyone
            case.call_and_validate(checks=[not_a_server_error], timeout=30, headers=auth)  # and as an admin

        try:
            run()
        except (Exception, BaseExceptionGroup) as e:  # noqa: BLE001 - collect every finding, report them all
            failures.append(f"{op.label}: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
    assert failures == []


# -- parsers and the extractor ------------------------------------------------------------------

CBDISH = st.text(alphabet=st.sampled_from(list("decisionparagraphArticle COPSBIXVI0123456789/().,–-;andetyBSCPNP\n")), max_size=200)


@BUDGET
@given(st.one_of(st.text(max_size=400), CBDISH))
def test_reference_extractor_never_crashes_and_spans_are_in_the_text(text):
    for r in extract_references(text):
        assert 0 <= r.start <= r.end <= len(text) and r.key and r.kind


@BUDGET
@given(st.one_of(st.text(max_size=40), CBDISH))
def test_symbol_parser_returns_or_raises_symbol_error(text):
    try:
        sym = parse_symbol(text)
    except SymbolError:
        return
    assert parse_symbol(sym.canonical) == sym


@BUDGET
@given(st.binary(max_size=2000), st.sampled_from(["a.txt", "a.md", "a.html", "a.pdf", "a.docx", "a", "a.png"]))
def test_document_reader_returns_a_document_or_a_document_error(data, name):
    try:
        doc = extract(data, name, language="en", max_bytes=10_000)
    except DocumentError:
        return
    assert doc.text and doc.language == "en"


@BUDGET
@given(st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"<html>", b"# t\n"]), st.binary(max_size=1500))
def test_document_reader_on_damaged_files(head, tail):
    try:
        extract(head + tail, "x.pdf" if head.startswith(b"%PDF") else "x.docx" if head.startswith(b"PK") else "x.html", language="en")
    except DocumentError:
        pass


@BUDGET
@given(st.text(max_size=300))
def test_sparql_lexer_never_crashes(text):
    try:
        analyse(text)
    except ChmError:
        pass


@BUDGET
@given(st.binary(max_size=1000), st.sampled_from(["s.csv", "s.xlsx"]))
def test_spreadsheet_reader_returns_rows_or_a_sheet_error(data, name):
    try:
        read_sheet(data, name)
    except SheetError:
        pass
