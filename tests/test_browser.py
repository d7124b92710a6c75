"""The pages in a real browser: Playwright driving Debian's chromium (installed by .ci/run).

A researcher's path — home, search a decision symbol, open the decision, follow its lineage to
Article 18 and back, switch language — with no console errors, and axe-core's accessibility check
on the main templates.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import SHARED, start_live_hub

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it with apt-get)")]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    hub, stop = start_live_hub(tmp_path_factory.mktemp("browser"), "embedded")
    data = SHARED / "data"
    if (data / "chm-schemas").is_dir():  # a country with its party status and two CHM records, as `chmkg build` loads them
        from hub.build import EXAMPLE_RECORDS, read_chm_records, read_countries
        from writes.ingest import ingest

        settings = hub.settings
        ingest(hub.hub.store, read_countries(data, settings.base), settings.graph("countries"), settings.meta_graph)
        ingest(hub.hub.store, read_chm_records([data / "chm-schemas" / n for n in EXAMPLE_RECORDS], settings.base, name="chm-examples"),
               settings.graph("chm-examples"), settings.meta_graph)
    yield hub
    stop()


WAIT_MS = 180_000


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    pg = context.new_page()
    # waits are bounded, but generously: a busy CI machine tags a document or renders a page
    # slower than Playwright's 30 s default, and a slow page is not a broken one (speed is in bench/)
    pg.set_default_timeout(WAIT_MS)
    pg.set_default_navigation_timeout(WAIT_MS)
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors
    yield pg
    context.close()


def test_search_decision_follow_lineage_to_article_18_and_back_switch_language(live, page):
    page.goto(live.url + "/")
    assert page.locator("h1").inner_text() == "CHM Knowledge Hub"
    page.get_by_label("Search labels, titles and symbols").fill("decision 15/16")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    page.locator("ol.hits li a").first.click()
    page.wait_for_url("**/decision/cop/15/16.html")
    assert "15/16" in page.locator("h1").inner_text()
    assert page.locator("svg.lineage").count() == 1
    # the lineage panel: follow the chain back to a paragraph of Article 18
    page.locator(".lineage-panel a[href^='/instrument/cbd/article/18']").first.click()
    page.wait_for_url("**/instrument/cbd/article/18**.html")
    if "/para/" in page.url:  # from the paragraph up to the article itself
        page.locator("dl.props a[href='/instrument/cbd/article/18.html']").first.click()
        page.wait_for_url("**/instrument/cbd/article/18.html")
    assert "Article 18" in page.locator("h1").inner_text()
    # and back: the decisions based on Article 18 include X/15
    page.locator("section[aria-labelledby='based'] a[href='/decision/cop/10/15.html']").click()
    page.wait_for_url("**/decision/cop/10/15.html")
    # switch language
    page.locator("nav.langs a[hreflang='fr']").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h2#props").inner_text() == "Propriétés"
    page.goto(live.url + "/decisions")  # the cookie keeps French
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.errors == []


def test_lineage_svg_nodes_are_links(live, page):
    page.goto(live.url + "/decision/cop/15/16.html")
    links = page.locator("svg.lineage a")
    assert links.count() >= 3
    links.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(".html") and page.errors == []


@pytest.mark.parametrize("width", [1280, 375])
def test_the_whole_lineage_fits_its_box_centred_on_the_decision_and_is_keyboard_reachable(live, browser, width):
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(live.url + "/decision/cop/15/16.html?depth=all")
        figure = page.locator("figure.lineage-figure").bounding_box()
        svg = page.locator("svg.lineage").bounding_box()
        assert svg["width"] <= figure["width"] + 1  # scaled into its box, not cut
        current = page.locator("svg.lineage a[aria-current='page'] rect").bounding_box()
        assert svg["x"] - 1 <= current["x"] and current["x"] + current["width"] <= svg["x"] + svg["width"] + 1
        middle = svg["x"] + svg["width"] / 2
        assert abs(current["x"] + current["width"] / 2 - middle) < svg["width"] * 0.1  # the decision is the centre column
        # the depth control and the picture's nodes are reached with the keyboard
        page.locator(".lineage-depth a").first.focus()
        for _ in range(40):  # bounded: tab until focus enters the picture
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement && document.activeElement.closest('svg.lineage') !== null"):
                break
        assert page.evaluate("document.activeElement.closest('svg.lineage') !== null")
        target = page.evaluate("document.activeElement.closest('a').getAttribute('href')")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == live.url + target
        # the depth control works without a script: depth 1 shows fewer links than all
        page.goto(live.url + "/decision/cop/15/16.html?depth=all")
        everything = page.locator(".lineage-levels a").count()
        page.locator(".lineage-depth a", has_text="1").first.click()
        page.wait_for_url("**depth=1**")
        assert 0 < page.locator(".lineage-levels a").count() < everything
    finally:
        context.close()


def test_tracking_dashboard_cell_leads_to_its_decisions_and_a_decision_filters_its_paragraphs(live, page):
    page.goto(live.url + "/tracking")
    cell = page.locator("table.tracking").first.locator("tbody tr", has_text="COP-10").locator("td a").first
    count = int(cell.inner_text())
    cell.click()
    page.wait_for_load_state()
    assert "/tracking/decisions?" in page.url and "meeting=COP-10" in page.url
    assert int(page.locator("#total").inner_text()) == count
    assert page.locator("table.decisions tbody tr").count() == count
    page.locator("table.decisions tbody tr a").first.click()
    page.wait_for_load_state()
    assert page.locator(".decision-status .status").count() == 1  # its status and why
    page.goto(live.url + "/decision/cop/15/16.html")
    page.select_option("#e-act", "requests")
    page.get_by_role("button", name="Apply").first.click()
    page.wait_for_load_state()
    assert "act=requests" in page.url
    acts = page.locator("ol.tree .act").all_inner_texts()
    assert acts and set(acts) == {"requests"} and page.errors == []


def test_a_dashboard_bar_is_reached_by_keyboard_and_opens_the_list_it_counts(live, page):
    page.goto(live.url + "/dashboard")
    bar = page.locator("#by-status ~ figure svg a").first
    label = bar.locator("path").get_attribute("aria-label")  # "active: 398 decisions"
    n = int(label.rsplit(": ", 1)[1].split()[0])
    page.locator("#by-status").click()  # the heading: Tab goes on from here
    for _ in range(20):  # Tab until a bar of the chart has the focus (bounded)
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.closest && !!document.activeElement.closest('#by-status ~ figure')"):
            break
    assert page.evaluate("document.activeElement.querySelector('path').getAttribute('aria-label')") == label
    with page.expect_navigation(timeout=WAIT_MS):
        page.keyboard.press("Enter")
    assert "/tracking/decisions?status=" in page.url
    assert int(page.locator("#total").inner_text()) == n
    assert page.errors == []


@pytest.mark.parametrize("path", ["/", "/decision/cop/15/16.html", "/decisions", "/tracking", "/dashboard", "/dashboard?lang=ar",
                                  "/decision/cop/15/16.html?lang=zh", "/thesaurus", "/tracking/decisions?meeting=COP-15", "/needs", "/search?q=clearing-house",
                                  "/instrument/cbd/article/18.html", "/work-programme/chm-wp-2024-2030.html", "/meeting/cop/10.html", "/scheme/gbf-targets/target-21.html", "/scheme/decision-status/active.html",
                                  "/nothing-here", "/network/mea-ikm-network.html", "/document/unep-cbd-cop-11-31.html",
                                  "/resource?iri=https%3A%2F%2Fw3id.org%2Fchmkg%2Fns%23currentStatus", "/queries", "/editor", "/actor/cop.html",
                                  *(["/country/pk.html", "/record/cd515765-fe80-2eb6-585b-7c4ad78986e8.html"]
                                    if (SHARED / "data" / "chm-schemas").is_dir() else [])])
def test_main_templates_pass_axe(live, page, path):
    from axe_playwright_python.sync_playwright import Axe

    page.goto(live.url + path)
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in serious)
    assert page.errors == [] or path == "/nothing-here"  # a 404 page logs the failed load itself


def test_keyboard_reaches_search_and_skip_link(live, page):
    page.goto(live.url + "/decisions")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "site-q"


def test_query_editor_runs_a_saved_query_without_the_network(live, page):
    requests: list[str] = []
    missing: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.goto(live.url + "/editor")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.get_by_role("button", name="Instances per class").click()  # a saved query, opened as an example
    page.locator(".yasqe_queryButton >> visible=true").first.click()
    table = page.locator(".yasr table >> visible=true").first
    table.wait_for(timeout=WAIT_MS)
    assert "Decision" in table.inner_text()
    assert any(u.startswith(live.url + "/sparql") for u in requests)
    assert all(u.startswith(live.url) or u.startswith("data:") for u in requests), [u for u in requests if not u.startswith(live.url)]
    assert missing == [] and page.errors == [], missing
    # with a result table and a second tab, YASGUI's markup still passes axe (the hub names its fields)
    from axe_playwright_python.sync_playwright import Axe

    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in violations)
    # YASGUI's "+" sits in its tab list (not allowed there): hidden, and the page's own button opens a tab
    assert page.locator(".tabsList button.addTab >> visible=true").count() == 0
    tabs = page.locator(".tabsList [role=tab]").count()
    page.locator("#new-tab").click()
    page.wait_for_function(f"document.querySelectorAll('.tabsList [role=tab]').length > {tabs}")
    assert page.errors == []


@pytest.mark.parametrize("path", ["/", "/decision/cop/15/16.html", "/decision/cop/15/16.html?lang=ar", "/tracking", "/dashboard",
                                  "/dashboard?lang=ru", "/targets", "/needs", "/meeting/cop/10.html",
                                  "/search?q=clearing-house"])
def test_pages_do_not_overflow_sideways_on_a_phone(live, browser, path):
    context = browser.new_context(locale="en-GB", viewport={"width": 375, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    pg.goto(live.url + path)
    overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    context.close()
    assert overflow <= 0, f"{path} is {overflow} px wider than a 375 px screen"


# one page of each kind, photographed at a desk and on a phone for the CI artefacts (README, "Tests")
PAGE_TYPES = {"home": "/", "decision": "/decision/cop/15/16.html", "meeting": "/meeting/cop/10.html",
              "article": "/instrument/cbd/article/18.html", "target": "/scheme/gbf-targets/target-21.html",
              "programme": "/work-programme/chm-wp-2024-2030.html", "actor": "/actor/cop.html", "decisions": "/decisions",
              "search": "/search?q=clearing-house", "tracking": "/tracking", "dashboard": "/dashboard", "thesaurus": "/thesaurus",
              "network": "/network/mea-ikm-network.html", "concept": "/scheme/decision-status/active.html",
              "document": "/document/unep-cbd-cop-11-31.html",
              **({"country": "/country/pk.html", "record": "/record/cd515765-fe80-2eb6-585b-7c4ad78986e8.html"}
                 if (SHARED / "data" / "chm-schemas").is_dir() else {}),
              "ontology-term": "/resource?iri=https%3A%2F%2Fw3id.org%2Fchmkg%2Fns%23currentStatus",
              "sparql-editor": "/editor", "queries": "/queries",
              # last: ?lang= sets the language cookie the pages after it would follow
              "decision-ar": "/decision/cop/15/16.html?lang=ar", "dashboard-zh": "/dashboard?lang=zh"}
SCREENSHOTS = Path(os.environ.get("CHMKG_SCREENSHOTS", Path(__file__).resolve().parent.parent / "var" / "screenshots"))


@pytest.mark.parametrize("width", [1280, 375])
def test_each_page_type_is_photographed_at_desk_and_phone_width_without_sideways_scrolling(live, browser, width):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="en-GB", viewport={"width": width, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        for name, path in PAGE_TYPES.items():
            response = pg.goto(live.url + path)
            assert response.status == 200, (path, response.status)
            shot = SCREENSHOTS / f"{name}-{width}.png"
            pg.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, path
        assert errors == []
    finally:
        context.close()


def test_the_print_stylesheet_leaves_out_the_site_chrome(live, page):
    page.goto(live.url + "/decision/cop/15/16.html")
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['header.site', 'footer.site', '.lineage-depth'].map(
        s => getComputedStyle(document.querySelector(s)).display)""")
    assert hidden == ["none", "none", "none"]
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).display") == "block"
    page.emulate_media(media="screen")
    assert page.evaluate("getComputedStyle(document.querySelector('header.site')).display") != "none"
