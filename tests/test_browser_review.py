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
    rows = page.locator(".review-record tbody tr")
    n = rows.count()
    assert n >= 4
    labels = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(n)]
    url = page.url
    # a click accepts without a page load; the keyboard moves on to the next row
    page.get_by_role("button", name=f"Accept {labels[0]}").click()
    rows.nth(0).locator("text=accepted").wait_for(timeout=WAIT_MS)
    assert page.url == url and "done" in rows.nth(0).get_attribute("class")
    page.keyboard.press("r")  # the focus moved to the next pending row: reject it
    rows.nth(1).locator("text=rejected").wait_for(timeout=WAIT_MS)
    # select two rows with x and accept both at once with A
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("Shift+A")
    rows.nth(3).locator("text=accepted").wait_for(timeout=WAIT_MS)
    assert rows.nth(2).locator(".review-status").inner_text() == "accepted"
    assert "2 reviewed" in page.locator("#review-live").inner_text()

    page.goto(live.url + "/review?status=accepted")
    cells = page.locator(".review-record").first.locator("tbody tr")
    accepted = {cells.nth(i).locator("td").nth(1).inner_text() for i in range(cells.count())}  # no selection column here
    assert accepted == {labels[0], labels[2], labels[3]}
    rec_iri = live.url + record.removesuffix(".html")
    store = live.hub.store
    assert store.ask(f"ASK {{ <{rec_iri}> <{DCTERMS.subject}> ?c }}")
    assert not page.errors


def _submit_and_open_queue(page, live, path, text):  # noqa: F811
    """Log in as the editor, submit ``text`` as the file ``path`` through the form, open the queue."""
    _login(page, live, "eve", "a long editor password")
    path.write_text(text, encoding="utf-8")
    page.get_by_label("Document").set_input_files(str(path))
    page.get_by_role("button", name="Submit", exact=True).click()
    page.goto(live.url + "/review")


def test_the_review_queue_works_without_javascript(live, browser, tmp_path):  # noqa: F811
    context = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        _submit_and_open_queue(page, live, tmp_path / "gender.txt",
                               "Gender plan of action\n\nThe gender plan of action and the budget of the Convention.")
        section = page.locator(".review-record", has_text="Gender plan of action")
        label = section.locator("tbody tr").first.locator("td").nth(2).inner_text()
        section.get_by_role("button", name=f"Accept {label}").click()  # posts the form: one commit, a page load
        assert page.locator("#review-message").inner_text() == "saved"
        section = page.locator(".review-record", has_text="Gender plan of action")
        left = section.locator("tbody tr").count()
        section.get_by_role("button", name="Reject all of this record").click()
        assert page.locator("#review-message").inner_text() == (f"saved ({left} reviewed)" if left > 1 else "saved")
        assert page.locator(".review-record", has_text="Gender plan of action").count() == 0
    finally:
        context.close()


def test_a_forged_csrf_token_is_refused_and_changes_nothing(live, page, tmp_path):  # noqa: F811
    _submit_and_open_queue(page, live, tmp_path / "forest.txt", "Forest biodiversity\n\nForest biodiversity and protected areas.")
    page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged')")
    store = live.hub.store
    before = store.count()
    # the form posts with the forged token (submitted directly, as a page without the script would)
    page.evaluate("""() => { const f = document.getElementById('review-queue');
        const b = document.querySelector('button[data-action=accept]');
        const i = document.createElement('input'); i.type = 'hidden'; i.name = 'act'; i.value = b.value;
        f.appendChild(i); f.submit(); }""")
    page.wait_for_load_state()
    assert "CSRF" in page.locator("#review-message").inner_text()
    assert store.count() == before


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


def test_the_thesaurus_opens_on_tabs_hierarchy_alphabetical_and_groups_as_skosmos_does(live, page):  # noqa: F811
    page.goto(live.url + "/thesaurus/informea")
    tabs = page.locator("nav.tabs a")
    assert tabs.all_inner_texts() == ["Hierarchy", "Alphabetical", "Groups"]
    assert page.locator('nav.tabs a[aria-current="page"]').inner_text() == "Hierarchy" and page.locator("#tree").count() == 1
    page.get_by_role("link", name="Alphabetical").click()
    page.get_by_role("link", name="M", exact=True).click()
    assert page.locator("#az").inner_text() == "M"
    assert "marine protected area" in page.locator("#az + ul").inner_text()
    page.get_by_role("link", name="Groups").click()
    groups = page.locator("#groups + ul li a")
    assert groups.count() == 6  # InforMEA's six topics (skos:Collection)
    biodiversity = page.locator("#groups ~ ul a", has_text=re.compile("biolog", re.I)).first
    biodiversity.click()
    members = page.locator("#members + ul li")
    assert members.count() == 148 and page.locator('#groups ~ ul a[aria-current="true"]').count() == 1
    page.goto(live.url + "/thesaurus/informea?tab=groups&lang=fr")
    assert page.locator('nav.tabs a[aria-current="page"]').inner_text() == "Groupes"
    assert not page.errors


@pytest.mark.parametrize("query", ["tab=<script>alert(1)</script>", "tab=groups&group=javascript:alert(1)",
                                  "tab=groups&group=http://x/> } ; DROP ALL ; <http://y"])
def test_the_thesaurus_tabs_refuse_hostile_values_without_echoing_them(live, query):
    import httpx

    before = live.hub.store.count()
    r = httpx.get(f"{live.url}/thesaurus/informea?{query}")
    assert r.status_code in (200, 404) and "<script>alert" not in r.text and "DROP ALL" not in r.text
    assert 'id="members"' not in r.text  # a group the vocabulary does not have lists nothing
    assert live.hub.store.count() == before


def test_a_skos_xl_label_shows_as_its_text_not_its_iri(live):
    import httpx

    page = httpx.get(f"{live.url}/resource", params={"iri": "http://www.informea.org/terms/marine-protected-area"}).text
    links = re.findall(r'<a href="[^"]*xl_en_\d+[^"]*">([^<]*)</a>', page)
    assert links and all(text == "marine protected area" for text in links), links
