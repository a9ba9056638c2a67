"""Real-browser test of the static site that ``make book`` builds.

The site is served on 127.0.0.1 and every page opened in headless Chromium with every
request that would leave the machine refused and recorded. For each page the test
asserts that

- nothing was requested from another host, nothing failed to load (no 404: MathJax's
  fonts and components are all in the site) and no script error occurred;
- MathJax typeset the page's math: no TeX error, no ``$...$`` left as text, and on a
  page whose notebook has math, typeset formulas;
- every image loaded (figures, the saved pictures of the interactive views);
- each interactive view of the notebook appears as its saved picture with the note on
  how to run it, never as a widget's text fallback or an empty box;
- every link inside the site leads to a page or file that exists, and to a heading
  that exists on it.

It also checks the site against the course folder (not against the builder's own
list): every notebook of chapters/, examples/ and exercises/ has a page, the sidebar
lists them in NN_ order, and previous / next walk through the chapters in that order.
Screenshots of each chapter's top, its first view, and the landing page on a phone
go to test-artifacts/.

``make ui-test`` builds the site first (``make book``) and points ``NNLIB_BOOK`` at it;
without ``NNLIB_BOOK`` the test builds its own copy.
"""

import functools
import json
import os
import posixpath
import re
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

pytestmark = pytest.mark.ui
CHROMIUM = os.environ.get("NNLIB_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREEN = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SECTIONS = ("chapters", "examples", "exercises")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def course_notebooks():
    """Every notebook the site must show, in reading order, from the course folder."""
    return [f"{folder}/{path.name}" for folder in SECTIONS
            for path in sorted((ROOT / folder).glob("*.ipynb"))]


def html_path(source):
    return source[:-len(".ipynb")] + ".html"


def notebook_facts(source):
    """How many views a notebook shows (the views it did not hide itself, as a live
    dashboard does once training ends) and whether its Markdown has math."""
    nb = json.loads((ROOT / source).read_text(encoding="utf-8"))
    state = nb["metadata"].get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})

    def shown(ref):
        layout = state.get(ref["model_id"], {}).get("state", {}).get("layout", "")
        return state.get(layout.replace("IPY_MODEL_", ""), {}).get("state", {}).get(
            "display") != "none"

    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", ())]
    views = sum(WIDGET_VIEW in out.get("data", {}) and shown(out["data"][WIDGET_VIEW])
                for out in outputs)
    figures = sum(any(m.startswith("image/") for m in out.get("data", {})) and
                  WIDGET_VIEW not in out.get("data", {}) for out in outputs)
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return views, bool(re.search(r"\$[^$\s][^$]*\$", markdown)), figures


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = Path(os.environ.get("NNLIB_BOOK") or "")
    if not os.environ.get("NNLIB_BOOK"):
        sys.path.insert(0, str(ROOT / "tools"))
        import build_book
        folder = tmp_path_factory.mktemp("site") / "book"
        build_book.build(ROOT, folder, quiet=True)
    assert (folder / "index.html").exists(), f"no built site in {folder}: run make book"

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder.resolve()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-domain-reliability", "--no-pings",
            # a request that escaped the test's router still could not resolve a name
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield chromium
        chromium.close()


PAGE_STATE = r"""() => {
    const content = document.querySelector('.book-content') || document.body;
    const skip = 'pre, code, script, style, mjx-container, .highlight';
    const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
    const leftover = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (n.parentElement.closest(skip)) { continue; }
        const m = n.textContent.match(/\$\$|\$[^$\n]*[\\^_{}][^$\n]*\$|\\(begin|frac)\b/);
        if (m) { leftover.push(n.textContent.trim().slice(0, 80)); }
    }
    const imgs = Array.from(document.images);
    return {
        math: content.querySelectorAll('mjx-container').length,
        mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
                         .map(e => e.getAttribute('data-mjx-error') || e.textContent),
        leftover,
        images: imgs.length,
        broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 120)),
        views: document.querySelectorAll('.book-view, .book-view-missing').length,
        savedViews: Array.from(document.querySelectorAll('figure.book-view')).map(v => ({
            images: Array.from(v.querySelectorAll('img')).filter(i => i.naturalWidth > 0).length,
            note: (v.querySelector('.book-view-note') || {}).innerText || ''})),
        fallback: /VBox\(children=|HBox\(children=|jupyter-widgets/.test(document.body.innerHTML),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
        ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id),
        sidebar: Array.from(document.querySelectorAll('.book-sidebar a')).map(a => a.href),
        next: (document.querySelector('link[rel=next]') || {}).href || null,
        previous: (document.querySelector('link[rel=prev]') || {}).href || null,
        title: document.title,
    };
}"""


READY = """() => document.documentElement.dataset.math === 'ready'
    && Array.from(document.images).every(i => i.complete)"""


def watch(context, base, problems):
    """Record on ``problems`` every request that would leave the machine (refused by
    Chromium's resolver rules anyway), every failed or 4xx/5xx load and every script
    error. A listener rather than a router: routing switches the HTTP cache off, and
    each page would parse MathJax again."""
    def request(r):
        if not r.url.startswith((base, "data:", "blob:")):
            problems.append(f"request leaving the machine: {r.url}")

    def failed(r):
        if r.failure != "net::ERR_ABORTED" or not r.url.startswith(base):
            problems.append(f"failed: {r.url} {r.failure}")

    context.on("request", request)
    context.on("requestfailed", failed)
    context.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status}: {r.url}"))


def load(page, base, path):
    """Open a page and wait until MathJax typeset it, its images loaded and its fonts
    (MathJax's too) are in."""
    page.goto(base + path, wait_until="load")
    page.wait_for_function(READY, timeout=90_000)
    page.evaluate("document.fonts.ready.then(() => true)")


def open_page(browser, base, path, viewport=SCREEN):
    """The page loaded and typeset in a context of its own, with what went wrong."""
    context = browser.new_context(viewport=viewport, service_workers="block")
    problems = []
    watch(context, base, problems)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    load(page, base, path)
    return context, page, problems


def site_pages(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")
                  if not p.relative_to(folder).parts[0].startswith("_"))


def test_every_notebook_of_the_course_has_a_page(site):
    _, folder = site
    pages = set(site_pages(folder))
    missing = [s for s in course_notebooks() if html_path(s) not in pages]
    assert not missing, f"no page for {missing}"
    assert "index.html" in pages
    assert (folder / "_static" / "mathjax" / "tex-chtml-full.js").exists()


@pytest.fixture(scope="module")
def crawl(site, browser):
    """Every page of the site opened once, one after the other in one tab as a reader
    clicks through (MathJax comes from the cache after the first page): ``{path:
    (state, problems)}``. Screenshots of the landing page, each chapter's and example's
    top and its first view."""
    base, folder = site
    ARTIFACTS.mkdir(exist_ok=True)
    pages = {}
    context = browser.new_context(viewport=SCREEN, service_workers="block")
    problems = []
    watch(context, base, problems)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    try:
        for path in site_pages(folder):
            start = len(problems)
            load(page, base, path)
            state = page.evaluate(PAGE_STATE)
            stem = path.replace("/", "_")[:-len(".html")]
            if path.startswith(("chapters/", "examples/")) or path == "index.html":
                page.screenshot(path=str(ARTIFACTS / f"book_{stem}.png"))
                if state["savedViews"]:
                    view = page.locator("figure.book-view").first
                    view.scroll_into_view_if_needed()
                    view.screenshot(path=str(ARTIFACTS / f"book_{stem}_view.png"))
            pages[path] = (state, problems[start:])
        page.wait_for_load_state("networkidle")  # nothing late from the last page either
        assert len(problems) == sum(len(p) for _, p in pages.values()), problems
    finally:
        context.close()
    return pages


def test_every_page_loads_offline_with_math_images_and_views(crawl):
    facts = {html_path(s): notebook_facts(s) for s in course_notebooks()}
    failures = []
    for path, (state, problems) in crawl.items():
        where = f"{path}:"
        failures += [f"{where} {p}" for p in problems]
        if state["mathErrors"]:
            failures.append(f"{where} TeX that MathJax cannot render: {state['mathErrors']}")
        if state["leftover"]:
            failures.append(f"{where} math left as text: {state['leftover'][:3]}")
        if state["broken"]:
            failures.append(f"{where} images that did not load: {state['broken']}")
        if state["fallback"]:
            failures.append(f"{where} a widget's text fallback or script is on the page")
        if path in facts:
            views, has_math, figures = facts[path]
            if has_math and not state["math"]:
                failures.append(f"{where} its notebook has math, none was typeset")
            if state["images"] < figures + views:
                failures.append(f"{where} {state['images']} images shown, its notebook has "
                                f"{figures} figures and {views} views")
            if state["views"] != views:
                failures.append(f"{where} {state['views']} views shown, notebook has {views}")
            for i, view in enumerate(state["savedViews"]):
                if not view["images"] or "JupyterLab" not in view["note"]:
                    failures.append(f"{where} view {i} has no picture or no note: {view}")
    assert not failures, "\n".join(failures)
    chapters = [p for p in crawl if p.startswith("chapters/") and p != "chapters/index.html"]
    assert chapters and all(crawl[p][0]["images"] for p in chapters if sum(facts[p][::2]))


def test_every_link_inside_the_site_leads_to_a_page_and_heading_that_exist(site, crawl):
    base, folder = site
    states = {path: state for path, (state, _) in crawl.items()}
    failures = []
    for path, state in states.items():
        for url in state["links"]:
            if not url.startswith(base):
                continue  # a link out is fine to have; the test never follows it
            parts = urlsplit(url)
            target = unquote(parts.path[len(urlsplit(base).path):]) or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (folder / target).is_file():
                failures.append(f"{path}: link to {target}, which does not exist")
            elif parts.fragment and target in states:
                ids = states[target]["ids"]
                if unquote(parts.fragment) not in ids and parts.fragment not in ids:
                    failures.append(f"{path}: link to {target}#{parts.fragment}: no such "
                                    "heading")
    assert not failures, "\n".join(failures)
    assert sum(len(s["links"]) for s in states.values()) > len(states)


def test_sidebar_and_previous_next_follow_the_course_order(site, browser, crawl):
    base, _ = site
    notebooks = course_notebooks()
    expected = [html_path(s) for s in notebooks]
    for path, (state, _) in crawl.items():
        listed = [urlsplit(u).path[1:] for u in state["sidebar"]]
        assert [p for p in listed if p in set(expected)] == expected, (path, listed)
        assert "index.html" in listed, path
    chapters = [html_path(s) for s in notebooks if s.startswith("chapters/")]
    for before, after in zip(chapters, chapters[1:], strict=False):
        assert crawl[before][0]["next"] == base + after, before
        assert crawl[after][0]["previous"] == base + before, after
    # and the buttons work: Next on the first chapter, then Previous back
    context, page, problems = open_page(browser, base, chapters[0])
    try:
        page.locator(".book-pager-next").click()
        page.wait_for_url(base + chapters[1])
        page.locator(".book-pager-prev").click()
        page.wait_for_url(base + chapters[0])
    finally:
        context.close()
    assert not problems, problems


def test_the_landing_page_reads_on_a_phone(site, browser):
    base, _ = site
    context, page, problems = open_page(browser, base, "index.html", viewport=PHONE)
    try:
        assert not problems, problems
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"the page is {width} px wide on a phone"
        assert not page.locator(".book-sidebar").is_visible() or \
            page.locator(".book-sidebar").bounding_box()["x"] < 0
        page.locator(".book-menu-button").click()
        page.wait_for_timeout(400)
        box = page.locator(".book-sidebar").bounding_box()
        assert box["x"] >= 0, "the table of contents does not open"
        page.screenshot(path=str(ARTIFACTS / "book_index_phone_menu.png"))
        first = page.locator(".book-sidebar a[href$='.html']").nth(1)
        target = first.get_attribute("href")
        first.click()
        page.wait_for_url(base + target)
    finally:
        context.close()


def test_a_request_leaving_the_machine_is_caught(site, browser):
    """The watch that the crawl relies on does fail a page that loads from another host
    (the resolver rules refuse the request; the watch names it)."""
    base, _ = site
    context, page, problems = open_page(browser, base, "index.html")
    try:
        assert not problems, problems
        page.evaluate("""() => new Promise(done => {
            const img = new Image();
            img.onload = img.onerror = () => done();
            img.src = 'https://cdn.example.org/mathjax.png';
        })""")
        page.wait_for_timeout(200)
    finally:
        context.close()
    assert any("request leaving the machine: https://cdn.example.org/" in p
               for p in problems), problems


def test_the_site_reads_from_the_folder_without_a_server(site, browser):
    """README: "open book/index.html in a browser". From file:// a chapter with math and
    a view typesets, loads its pictures and MathJax's fonts, and reaches the next page."""
    _, folder = site
    base = folder.as_uri() + "/"
    chapter = next(html_path(s) for s in course_notebooks()
                   if s.startswith("chapters/") and all(notebook_facts(s)[:2]))
    context, page, problems = open_page(browser, base, chapter)
    try:
        state = page.evaluate(PAGE_STATE)
        fonts = page.evaluate("""() => Array.from(document.fonts)
            .filter(f => f.family.startsWith('MJX') && f.status === 'error')
            .map(f => f.family)""")
        assert state["math"] and not state["mathErrors"] and not state["broken"], state
        assert state["savedViews"] and not fonts and not problems, (fonts, problems)
        page.locator(".book-pager-next").click()
        page.wait_for_load_state("load")
        assert page.url.startswith(base) and page.url != base + chapter
    finally:
        context.close()


# A word of some section heading that its section's text (over 300 characters) and its
# page title lack, from the loaded search index.
HEADING_ONLY_WORD = """() => {
  for (const page of window.BOOK_SEARCH) {
    for (const [, heading, text] of page.s) {
      for (const w of heading.toLowerCase().split(/[^a-z]+/)) {
        if (w.length > 5 && text.length > 300 && !text.toLowerCase().includes(w)
            && !page.t.toLowerCase().includes(w)) { return w; }
      }
    }
  }
  return null;
}"""


def test_search_finds_a_section_and_opens_it(site, browser):
    """Type a word: the sections that have it are listed, the chapters first; Enter
    opens the first at its heading, also when pressed before the list caught up with the
    last keys. A word found nowhere says so."""
    base, folder = site
    word = "im2col"
    query = f"{word} backward"
    having = [html_path(s) for s in course_notebooks() if s.startswith("chapters/")
              and word in (ROOT / s).read_text(encoding="utf-8")]
    assert having, f"no chapter mentions {word}: choose another word for this test"
    shown_for = "(q) => document.querySelector('.book-search-panel').dataset.query === q"
    context, page, problems = open_page(browser, base, "index.html")
    try:
        page.keyboard.press("/")
        page.keyboard.type(query)
        page.wait_for_function(shown_for, arg=query)   # the list is for every key typed
        page.wait_for_selector(".book-search-panel:not([hidden]) li")
        first = page.locator(".book-search-panel a").first
        href = posixpath.normpath(first.get_attribute("href"))   # "./chapters/..."
        target, _, anchor = href.partition("#")
        assert target in having, (href, having)
        # the section holds both words (the snippet shows the section's start, which may
        # not reach them): the page it opens is one that has the word
        assert first.inner_text().strip()
        page.screenshot(path=str(ARTIFACTS / "book_search.png"))
        page.keyboard.press("Enter")
        page.wait_for_url(base + href)
        page.wait_for_function(READY)
        if anchor:
            assert page.locator(f'[id="{unquote(anchor)}"], [id="{anchor}"]').count() == 1
        # Enter at once after the last key (before the 120 ms pause that starts a search):
        # it opens the first section for the whole query, not for what came before
        page.goto(base + "index.html")
        page.wait_for_function(READY)
        page.keyboard.press("/")
        page.keyboard.type(query)
        page.keyboard.press("Enter")
        page.wait_for_url(base + href)
        page.wait_for_function(READY)
        page.locator(".book-search-input").fill("qwxzzy")
        page.wait_for_selector(".book-search-none")
        assert "No section" in page.locator(".book-search-panel").inner_text()
        # a word only in a section's heading: its snippet is the start of the section,
        # not a window cut from its end
        page.wait_for_function("() => Array.isArray(window.BOOK_SEARCH)")
        heading_word = page.evaluate(HEADING_ONLY_WORD)
        assert heading_word, "no heading has a word its section's text lacks"
        page.locator(".book-search-input").fill(heading_word)
        page.wait_for_function(shown_for, arg=heading_word)
        unmarked = page.locator(".book-search-panel li").evaluate_all(
            "(items) => items.filter((li) => !li.querySelector('.book-search-snippet mark'))"
            ".map((li) => li.querySelector('.book-search-snippet').textContent)")
        assert unmarked, heading_word
        assert not [t for t in unmarked if t.startswith("…")], (heading_word, unmarked)
        # Escape right after a key: the box empties and the panel closes, and the search
        # that key had scheduled does not open it again
        page.locator(".book-search-input").press("s")
        page.keyboard.press("Escape")
        page.wait_for_timeout(400)
        assert page.locator(".book-search-input").input_value() == ""
        assert page.locator(".book-search-panel").is_hidden()
        assert page.locator(".book-search-panel li").count() == 0
    finally:
        context.close()
    assert not problems, problems
