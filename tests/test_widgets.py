"""Widgets for national CHM sites in a real browser: a page on another origin embeds the decisions
widget as an iframe and the records/decisions list through the vendored <chm-list> web component;
framing is refused to origins the ``widget_origins`` setting does not name; no cookie either way."""

from __future__ import annotations

import http.server
import threading

import httpx
import pytest
from conftest import _free_port, start_live_hub
from hostile import hostile_strings
from test_browser import CHROMIUM, browser, page  # noqa: F401 - shared fixtures

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it with apt-get)")]


@pytest.fixture(scope="module")
def hubs(tmp_path_factory):
    open_hub, stop_open = start_live_hub(tmp_path_factory.mktemp("widgets-open"), "embedded")
    closed_hub, stop_closed = start_live_hub(tmp_path_factory.mktemp("widgets-closed"), "embedded",
                                             widget_origins="https://chm.elsewhere.example")
    yield open_hub, closed_hub
    stop_open()
    stop_closed()


@pytest.fixture(scope="module")
def site():
    """A national CHM site on another origin (another port of 127.0.0.1), serving the page it is asked for."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            if self.path == "/favicon.ico":
                self.send_response(204)
                self.end_headers()
                return
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", pages
    server.shutdown()
    server.server_close()


def embedding(hub_url: str) -> str:
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>CHM national</title>'
            f'<script type="module" src="{hub_url}/static/chm-list.js"></script></head><body>'
            f'<iframe id="w" title="COP-10" src="{hub_url}/widget/decisions?meeting=COP-10&lang=fr&limit=5"></iframe>'
            f'<chm-list id="c" src="{hub_url}/widget/decisions?meeting=COP-15&lang=es&format=fragment"></chm-list></body></html>')


def test_a_national_site_embeds_the_iframe_and_the_web_component(hubs, site, page):  # noqa: F811
    hub, _ = hubs
    url, pages = site
    pages["/open"] = embedding(hub.url)
    page.goto(url + "/open")
    frame = page.frame_locator("#w")
    assert frame.locator("li").count() == 5 and frame.locator("html").get_attribute("lang") == "fr"
    assert frame.locator("h2").inner_text() == "Décisions"
    page.wait_for_selector("chm-list[data-state=loaded]")
    items = page.locator("#c").locator("li")  # Playwright pierces the open shadow root
    assert items.count() >= 5 and page.locator("#c").locator("h2").inner_text() == "Decisiones"
    assert all(h.startswith(hub.url + "/decision/cop/15/") for h in page.locator("#c").locator("li a").evaluate_all("els => els.map(e => e.href)"))
    assert page.context.cookies() == [] and page.errors == []


def test_framing_is_refused_to_origins_the_setting_does_not_name(hubs, site, page):  # noqa: F811
    _, closed = hubs
    url, pages = site
    pages["/closed"] = embedding(closed.url)
    page.goto(url + "/closed")
    page.wait_for_timeout(1500)  # the refused frame loads nothing; nothing to wait for but time (bounded)
    assert page.frame_locator("#w").locator("li").count() == 0
    r = httpx.get(closed.url + "/widget/decisions")
    assert "frame-ancestors https://chm.elsewhere.example" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers and "set-cookie" not in r.headers


@pytest.mark.parametrize("value", hostile_strings())
def test_hostile_widget_parameters_are_escaped_or_refused(hubs, value):
    hub, _ = hubs
    for params in ({"meeting": value}, {"actor": value, "lang": value}, {"country": value, "subject": value, "format": value}):
        for kind in ("decisions", "records"):
            r = httpx.get(hub.url + f"/widget/{kind}", params=params)
            assert r.status_code in (200, 400) and "<script>" not in r.text
    from urllib.parse import quote

    assert httpx.get(hub.url + "/widget/" + quote(value, safe="")).status_code == 404
