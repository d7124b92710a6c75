"""Submitting a document and reviewing its suggestions in a real browser (Playwright + Debian's chromium).

An editor logs in, submits a text file through the form, sees the suggested subjects and the
resolved references, opens the review queue, accepts one suggestion and rejects another; a form
posted with a forged CSRF token is refused; a reader is kept out of the queue.
"""

from __future__ import annotations

import re

import pytest
from conftest import SHARED, start_live_hub
from test_browser import CHROMIUM, WAIT_MS, browser, page  # noqa: F401 - shared fixtures

from writes.ingest import ingest
from ontology import DCTERMS

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it with apt-get)"),
              pytest.mark.skipif(not (SHARED / "data").is_dir(), reason="../shared/data not found: tagging needs the MEA thesaurus")]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from thesaurus.importers import read_vocabulary

    hub, stop = start_live_hub(tmp_path_factory.mktemp("review"), "embedded")
    source = read_vocabulary("informea", SHARED / "data")[0]
    ingest(hub.hub.store, source, hub.settings.graph(source.name), hub.settings.meta_graph)
    hub.hub.accounts.create("eve", "editor", "a long editor password")
    hub.hub.accounts.create("rita", "reader", "a long reader password")
    yield hub
    stop()


def _login(page, live, name, password):  # noqa: F811
    page.goto(live.url + "/login?next=/submit")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_submit_then_accept_and_reject_in_the_browser(live, page, tmp_path):  # noqa: F811
    _login(page, live, "eve", "a long editor password")
    assert page.url.endswith("/submit")
    doc = tmp_path / "note.txt"
    doc.write_text("Marine protected areas and invasive species\n\nParties establish marine protected areas "
                   "and control invasive species, as requested in paragraph 9 (f) of decision 15/16 and Article 18.3.",
                   encoding="utf-8")
    page.get_by_label("Document").set_input_files(str(doc))
    page.get_by_role("button", name="Submit", exact=True).click()
    section = page.locator("#submitted")
    assert "Marine protected areas and invasive species" in section.locator("h2").inner_text()
    assert section.locator("ol.suggestions li").count() >= 2
    assert section.get_by_role("link", name="15/16 para 9 (f)").count() == 1
    record = section.locator("h2 a").get_attribute("href")

    page.get_by_role("link", name="Review queue").click()
    assert page.locator("h1").inner_text() == "Review queue"
    first_label = page.locator(".review-record tbody tr").first.locator("td").nth(1).inner_text()
    page.get_by_role("button", name=f"Accept {first_label}").click()
    assert page.locator("#review-message").inner_text() == "saved"
    second_label = page.locator(".review-record tbody tr").first.locator("td").nth(1).inner_text()
    page.get_by_role("button", name=f"Reject {second_label}").click()
    assert page.locator("#review-message").inner_text() == "saved"
    page.get_by_role("link", name="accepted").click()
    assert first_label in page.locator(".review-record").first.inner_text()

    rec_iri = live.url + record.removesuffix(".html")
    store = live.hub.store
    assert store.ask(f"ASK {{ <{rec_iri}> <{DCTERMS.subject}> ?c }}")

    # a forged CSRF token is refused and changes nothing
    page.goto(live.url + "/review")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged')")
    before = store.count()
    page.locator("form.inline button[value=accept]").first.click()
    assert "CSRF" in page.locator("#review-message").inner_text()
    assert store.count() == before
    assert not page.errors


def test_a_reader_cannot_open_the_review_queue(live, page):  # noqa: F811
    _login(page, live, "rita", "a long reader password")
    response = page.goto(live.url + "/review")
    assert response.status == 403
    assert "editors" in page.locator("main").inner_text()
    assert re.search(r"rita \(reader\)", page.locator("header").inner_text())


def test_thesaurus_autocomplete_suggests_and_opens_a_concept(live, page):  # noqa: F811
    page.goto(live.url + "/thesaurus/informea")
    box = page.get_by_label("Find a concept (any language, any label)")
    box.press_sequentially("marine prot", delay=20)
    page.locator("#concept-suggestions option").first.wait_for(state="attached", timeout=WAIT_MS)  # no eval: the CSP forbids it
    options = [o.get_attribute("value") for o in page.locator("#concept-suggestions option").all()]
    assert "marine protected area" in options
    box.fill("marine protected area")  # an exact suggestion: the input event opens the concept
    page.wait_for_url("**/resource?iri=*", timeout=WAIT_MS)
    assert "marine-protected-area" in page.url and "marine protected area" in page.locator("h1").inner_text()
    assert not page.errors
