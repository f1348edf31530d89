"""The built site in a real Chromium: no console error, no failed or foreign request, no axe violation.

The site is served on loopback by http.server in a thread; Debian's /usr/bin/chromium
is driven headless by Playwright. Screenshots of the home, incident and monitor pages
at 1280 and 390 px, light and dark, go to artifacts/; with STATUSGEN_UPDATE_SCREENSHOTS=1
the light ones are also copied to docs/screenshot-<page>-<width>.png (a test run never
changes tracked files otherwise). At 390 and 1280 px the pages are measured the way
the visitor issue measured them: overflow, text size, day-bar width, wrapped labels.
"""

from __future__ import annotations

import http.server
import mimetypes
import os
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.site import build_site
from generator.site.sample import demo_inputs
from tests.support.browser import AXE, CHROMIUM, axe_violations, chromium, serve, watch

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PAGES = ["index.html", "monitors/svc-0000/index.html", "incidents/100/index.html", "history/index.html",
         "maintenance/maint-net/index.html", "subscribe/index.html", "404.html"]

# Locally a missing browser skips these tests; under CI (CI=true) it fails them: CI must prove the pages.
pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and (not Path(CHROMIUM).exists() or not AXE.exists()),
    reason="needs Chromium (make system-deps) and node_modules/axe-core (make npm-deps)",
)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    config, history, incidents, maintenance = demo_inputs(folder, now=NOW)
    out = folder / "_site"
    build_site(config, history, incidents, maintenance, out, now=NOW)
    with serve(out) as base, chromium() as browser:
        yield out, base, browser


def _pages(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))


def test_every_page_loads_cleanly(served):
    out, base, browser = served
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10000)
    record = watch(page, base)
    visited = 0
    for name in _pages(out):
        response = page.goto(base + name, wait_until="load")
        assert response is not None and response.ok, name
        visited += 1
    context.close()
    assert visited == len(_pages(out)) >= 20
    # leaving a page can abort its favicon load; an aborted request is fine only if its file exists
    aborted = [f for f in record.failed if f.startswith("net::ERR_ABORTED ")]
    for failure in aborted:
        assert (out / failure.split(base, 1)[1]).is_file(), failure
        record.failed.remove(failure)
    assert record.problems() == []


def test_pages_work_from_disk(served):
    """Opened straight from disk (file://): every stylesheet and script still loads."""
    out, _, browser = served
    context = browser.new_context()
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(f"{request.failure} {request.url}"))
    for name in ("index.html", "monitors/svc-0000/index.html", "history/index.html"):
        page.goto((out / name).as_uri(), wait_until="load")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background in ("rgb(255, 255, 255)", "rgb(13, 17, 23)"), name  # the stylesheet applied
    context.close()
    # leaving a page may abort its favicon load: fine when the file is there
    from urllib.parse import unquote, urlsplit

    real = [f for f in failed if not (f.startswith("net::ERR_ABORTED ") and Path(unquote(urlsplit(f.split(" ", 1)[1]).path)).is_file())]
    assert real == []


SHOTS = {"home": "index.html", "incident": "incidents/100/index.html", "monitor": "monitors/svc-0000/index.html"}


@pytest.mark.parametrize("width", [1280, 390])
def test_screenshots_light_and_dark(served, width):
    """Home, incident and monitor pages at 1280 and 390 px, light and dark, into artifacts/ (and docs/ on request)."""
    out, base, browser = served
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    update_docs = os.environ.get("STATUSGEN_UPDATE_SCREENSHOTS") == "1"
    colours = {}
    for scheme in ("light", "dark"):
        # without the optional script the picture is the same on every run (no "5 minutes ago")
        options = dict(PHONE) if width == 390 else {"viewport": {"width": width, "height": 900}}
        options["device_scale_factor"] = 1
        context = browser.new_context(color_scheme=scheme, java_script_enabled=False, **options)
        page = context.new_page()
        for name, path in SHOTS.items():
            page.goto(base + path, wait_until="load")
            colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
            shot = artifacts / f"{name}-{width}-{scheme}.png"
            page.screenshot(path=str(shot), full_page=name != "monitor")  # the monitor page: its first screen
            assert shot.stat().st_size > 10000
            if scheme == "light" and update_docs:
                shutil.copyfile(shot, ROOT / "docs" / f"screenshot-{name}-{width}.png")
        context.close()
    assert colours == {"light": "rgb(255, 255, 255)", "dark": "rgb(13, 17, 23)"}
    if width == 1280 and update_docs:
        shutil.copyfile(artifacts / "home-1280-light.png", ROOT / "docs" / "screenshot-home.png")


def test_phone_width_has_no_horizontal_scroll(served):
    out, base, browser = served
    context = browser.new_context(viewport={"width": 375, "height": 800}, is_mobile=True)
    page = context.new_page()
    for name in ("index.html", "monitors/svc-0000/index.html", "incidents/100/index.html"):
        page.goto(base + name, wait_until="load")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, name
    context.close()


def test_day_bars_are_reachable_by_keyboard(served):
    out, base, browser = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(base + "index.html", wait_until="load")
    bar = page.locator("ol.bars > li").first
    bar.focus()
    tip = bar.locator("span")
    assert tip.is_visible()  # shown on focus, not only on hover
    assert "uptime" in tip.inner_text() or "No data" in tip.inner_text()
    context.close()


@pytest.mark.parametrize("name", ["index.html", "monitors/svc-0000/index.html", "incidents/100/index.html",
                                  "incidents/manual-1/index.html"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation(served, name, scheme):
    out, base, browser = served
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(base + name, wait_until="load")
    violations = axe_violations(page)
    context.close()
    assert violations == [], violations


# --------------------------------------------------------------------------- phones (390 px) and desktops (1280 px)


# every element that sticks out of the viewport, unless a scrolling container holds it
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width <= 1 || box.height <= 1 || box.right <= width + 0.5) continue;
    let held = false;
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (["auto", "scroll"].includes(getComputedStyle(up).overflowX)) { held = true; break; }
    }
    if (!held) out.push(el.tagName + "." + el.className + " right=" + Math.round(box.right));
  }
  return out;
}"""
# the smallest on-screen text: HTML text by its computed size, SVG text scaled as the chart is drawn
_SMALLEST_TEXT = """() => {
  let small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !el || !el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    if (box.width <= 1) continue;  // visually hidden (a bar's tip before focus)
    let size = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.closest("svg");
    if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width) size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    if (size < 11) small.push(el.tagName + " " + node.textContent.trim().slice(0, 20) + " " + size.toFixed(1) + "px");
  }
  return small;
}"""


@pytest.mark.parametrize("width", [390, 1280])
def test_no_overflow_and_no_text_under_11px(served, width):
    out, base, browser = served
    options = PHONE if width == 390 else {"viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(**options)
    page = context.new_page()
    for name in PAGES:
        page.goto(base + name, wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        assert page.evaluate(_OVERFLOW) == [], name
        assert page.evaluate(_SMALLEST_TEXT) == [], name
    # the daily table fits the phone (no column cut off behind a scroll)
    page.goto(base + "monitors/svc-0000/index.html", wait_until="load")
    fits = page.evaluate("[...document.querySelectorAll('.scroll')].filter(e => e.checkVisibility())"
                         ".map(e => e.scrollWidth - e.clientWidth)")
    assert fits and max(fits) <= 1, fits
    context.close()


@pytest.mark.parametrize("width, days", [(390, 30), (1280, 90)])
def test_day_bars_are_wide_enough_and_labels_stay_on_one_line(served, width, days):
    out, base, browser = served
    options = PHONE if width == 390 else {"viewport": {"width": 1280, "height": 900}}
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(base + "index.html", wait_until="load")
    rows = page.evaluate("""() => [...document.querySelectorAll("ol.bars")].map(list => {
        const shown = [...list.children].filter(li => li.checkVisibility());
        const n = shown.map(li => +li.style.getPropertyValue("--n"));
        return {days: n.reduce((a, b) => a + b, 0),
                perDay: Math.min(...shown.map((li, i) => li.getBoundingClientRect().width / n[i]))};
    })""")
    assert len(rows) == 5
    for row in rows:
        assert row["days"] == days
        assert row["perDay"] >= (8 if width == 390 else 7), row  # the issue measured 3.7 px at 390
    # "24 h  7 days  30 days  90 days": one row, no label alone on a line, none wrapped inside
    for tops, heights, line in page.evaluate("""() => [...document.querySelectorAll(".ups")].map(dl => {
        const dts = [...dl.querySelectorAll("dt")];
        return [dts.map(dt => Math.round(dt.getBoundingClientRect().top)), dts.map(dt => dt.getBoundingClientRect().height),
                parseFloat(getComputedStyle(dts[0]).lineHeight)];
    })"""):
        assert len(set(tops)) == 1, tops
        assert max(heights) < 1.5 * line, heights
    axis = page.locator(".bax").first.inner_text()
    assert f"{days} days ago" in axis and "Today" in axis
    context.close()


def test_a_tapped_day_bar_shows_its_summary_on_screen(served):
    out, base, browser = served
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(base + "index.html", wait_until="load")
    bars = page.locator("ol.bars").first.locator("li:visible")
    for index in (0, bars.count() - 1):
        bar = bars.nth(index)
        bar.tap()
        tip = bar.locator("span")
        assert tip.is_visible()
        box = tip.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert "uptime" in tip.inner_text() or "No data" in tip.inner_text()
    context.close()


# --------------------------------------------------------------------------- the 404 page at any depth, without base_url


def _pages_like_server(folder: Path, prefix: str):
    """Serve ``folder`` under ``prefix`` as GitHub Pages does: a missing address gets 404.html, status 404."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass

        def do_GET(self):  # noqa: N802 - http.server's name
            path = unquote(urlsplit(self.path).path)
            target = folder / path[len(prefix):] if path.startswith(prefix) else None
            if target is not None and target.is_dir():
                target = target / "index.html"
            if target is not None and target.is_file() and folder.resolve() in target.resolve().parents:
                status, body = 200, target.read_bytes()
                kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            else:
                status, body, kind = 404, (folder / "404.html").read_bytes(), "text/html"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _wait_for_base(page, expected: str, seconds: float = 15.0) -> None:
    """Poll from outside the page: wait_for_function would evaluate a string, which the page's CSP forbids."""
    deadline = time.monotonic() + seconds
    while page.evaluate("document.baseURI") != expected:
        assert time.monotonic() < deadline, page.evaluate("document.baseURI")
        time.sleep(0.05)


@pytest.mark.parametrize("prefix", ["/status/", "/"])
def test_404_page_works_at_any_nested_address(served, prefix):
    out, _, browser = served
    assert "<base " in (out / "404.html").read_text()  # the demo has no base_url
    server, origin = _pages_like_server(out, prefix)
    try:
        context = browser.new_context()
        page = context.new_page()
        complaints: list[str] = []
        page.on("console", lambda m: complaints.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda error: complaints.append(str(error)))
        for missing in ("monitors/gone/", "x/y/gone/", "incidents/999/deeper/page.html"):
            response = page.goto(origin + prefix + missing, wait_until="load")
            assert response.status == 404 and "Page not found" in page.content()
            _wait_for_base(page, origin + prefix)
            # the page is styled (the theme's stylesheet, carried inline) ...
            assert page.evaluate("getComputedStyle(document.querySelector('.top')).borderBottomStyle") == "solid"
            assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
            # ... and every link leads to a page of the site
            hrefs = page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => !h.includes('#'))")
            assert hrefs and all(h.startswith(origin + prefix) for h in hrefs), hrefs
            for href in hrefs:
                assert page.request.get(href).status == 200, href
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("link", name="Go to the status page").click()
        assert page.url == origin + prefix + "index.html"
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        assert complaints == []
        context.close()
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- a large site: groups folded on the home page


@pytest.fixture(scope="module")
def folded(tmp_path_factory, served):
    """The demo with groups folded from 3 monitors on (the default is 200) and one monitor down
    (served beside the main demo, in the same browser: Playwright drives one at a time)."""
    import dataclasses

    from generator.models import MonitorState, State

    folder = tmp_path_factory.mktemp("folded")
    config, history, incidents, maintenance = demo_inputs(folder, count=8, now=NOW)
    config = dataclasses.replace(config, site=dataclasses.replace(config.site, collapse_groups_from=3))
    states = history.load_states()
    states["svc-0005"] = MonitorState(monitor_id="svc-0005", status=State.DOWN, since=NOW, last_check=NOW)
    history.save_states(states)
    out = folder / "_site"
    build_site(config, history, incidents, maintenance, out, now=NOW)
    with serve(out) as base:
        yield out, base, served[2]


@pytest.mark.parametrize("width", [390, 1280])
def test_folded_groups_open_to_their_problems_and_lead_to_their_page(folded, width):
    out, base, browser = folded
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    record = watch(page, base)
    page.goto(base + "index.html", wait_until="load")
    groups = page.locator("details.grp")
    assert groups.count() == 4
    edge = groups.filter(has_text="Edge")
    link = edge.get_by_role("link", name="All 2 services in Edge")
    assert not link.is_visible()  # folded until opened
    summary = edge.locator("summary")
    assert "Down" in summary.inner_text() and "1 Operational" in summary.inner_text()
    summary.focus()
    page.keyboard.press("Enter")  # opens by keyboard
    assert link.is_visible() and edge.get_by_role("link", name="Service 5").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    with page.expect_navigation(wait_until="load"):
        link.click()
    assert page.url == base + "groups/Edge/index.html"
    assert page.locator("li.mon").count() == 2 and page.locator("ol.bars").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert record.console_errors == [] and record.failed == [] and record.foreign == []
    context.close()


@pytest.mark.parametrize("name", ["index.html", "groups/Edge/index.html"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_with_folded_groups(folded, name, scheme):
    out, base, browser = folded
    context = browser.new_context(color_scheme=scheme)
    page = context.new_page()
    page.goto(base + name, wait_until="load")
    page.locator("details.grp").evaluate_all("all => all.forEach(d => d.open = true)")
    violations = axe_violations(page)
    context.close()
    assert violations == [], violations
