"""Real-browser test: every notebook of the course in JupyterLab, in headless Chromium.

The notebooks are found, not listed: every ``chapters/*.ipynb`` and ``examples/*.ipynb``
(a new chapter joins with no change here) and the dashboard demo beside this file. One
JupyterLab server on 127.0.0.1 and one browser page serve them all; each notebook is
opened in its own tab and run once (Run All), several at a time (``NNLIB_UI_PARALLEL``
kernels, default 2, heaviest notebook first) while the test moves the controls of the one
that finished. For every notebook the test asserts that

- every code cell ran and none produced an error or a traceback; MathJax rendered all
  of the Markdown's LaTeX; the run shows as many image outputs and interactive widgets
  as the notebook's committed clean run, and no widget failed to display;
- each interactive view fits a 1400 x 900 screen with its controls, and no control's
  label is cut off;
- **every control on the page** -- found after Run All as every ipywidgets control
  (slider, dropdown, select, toggle buttons, radio buttons, toggle, checkbox, button, text
  field, file upload), not from a hand list -- moved as a learner moves it (a slider
  dragged, each option of a dropdown or toggle picked in turn, a field typed into and
  Enter pressed, a button clicked) changes what its view shows: the bytes of its images
  or its text. A selection that goes back to its first value brings back the first
  picture. No move raises an error in the kernel (an error or traceback sent by the
  kernel, or a traceback in the server's log).
- a control that is disabled for the view's default selection (``alpha`` when sigmoid
  is chosen) is reported as such and must become enabled through some choice of another
  control of its view, and then respond; a control that stays disabled for every choice
  fails the test.

What was moved, what each move changed and which controls were disabled is written to
``test-artifacts/ui_controls.md``; screenshots of every notebook after its run and of
every view after its controls moved go to ``test-artifacts/`` too. Run with
``make ui-test`` (``make test`` runs it when Chromium is installed). Playwright must use
Debian's Chromium: its own browser download does not work here.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui
CHROMIUM = os.environ.get("NNLIB_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
REPORT = ARTIFACTS / "ui_controls.md"
#: one line per control as it is moved, with the seconds it took: where a slow or stuck
#: run spends its time (the report above is written per notebook, at its end)
PROGRESS = ARTIFACTS / "ui_progress.log"
SCREEN = {"width": 1400, "height": 900}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: notebooks whose kernels run at once (the machine has 2 cores; each kernel is one
#: thread, see ``lab``)
PARALLEL = max(1, int(os.environ.get("NNLIB_UI_PARALLEL", "2")))
RUN_TIMEOUT = 600      # seconds for one notebook's Run All (under load)
MOVE_TIMEOUT = 60      # seconds for a view to show a move's result
MAX_OPTIONS = 12       # options of one dropdown / toggle tried (evenly spread) at most


def committed_seconds(path):
    """Seconds the notebook's committed clean run took (from nbclient's cell timings; 0
    when it has none), to start the heaviest first."""
    total = 0.0
    for cell in json.loads(path.read_text())["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        try:
            start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        total += (end - start).total_seconds()
    return total


def course_notebooks():
    """Every notebook to run, heaviest (by its committed run) first."""
    found = [p for folder in ("chapters", "examples") for p in (ROOT / folder).glob("*.ipynb")]
    found.append(ROOT / "tests" / "ui" / "widgets_demo.ipynb")
    found.sort(key=lambda p: (-committed_seconds(p), str(p)))
    return [str(p.relative_to(ROOT)) for p in found]


def committed_outputs(path):
    """(image outputs, widget outputs) of the notebook as committed after a clean run, or
    None for a notebook committed without outputs (the dashboard demo)."""
    images = widgets = 0
    cells = json.loads((ROOT / path).read_text())["cells"]
    if not any(cell.get("execution_count") for cell in cells):
        return None
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            images += "image/png" in data
            widgets += WIDGET_VIEW in data
    return images, widgets


NOTEBOOKS = course_notebooks()

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(config_dir):
    """Render every cell (no virtual scrolling: views below the fold must exist in the
    page), no news pop-up over the notebook, and no dialog on closing a running one."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    for extension, plugin, values in (
            ("notebook-extension", "tracker", {"windowingMode": "none"}),
            ("apputils-extension", "notification", {"fetchNews": "false",
                                                    "checkForUpdates": False}),
            ("docmanager-extension", "plugin", {"autosave": False})):
        folder = settings / extension
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """One JupyterLab for every notebook, serving a copy of the course folders (the
    notebooks' runs never touch the committed files)."""
    root = tmp_path_factory.mktemp("lab")
    for folder in ("chapters", "examples", "tests/ui"):
        shutil.copytree(ROOT / folder, root / folder)
    write_settings(root / ".jupyter")
    port, token = free_port(), "nnlib-ui-test"
    # One BLAS thread per kernel: PARALLEL kernels share the cores without oversubscribing.
    threads = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"),
                            "1")
    env = {**os.environ, **threads, "NNLIB_PROGRESS": str(root / "progress.json"),
           "JUPYTER_CONFIG_DIR": str(root / ".jupyter"), "MPLBACKEND": "Agg"}
    log_path = root / "jupyter.log"
    # the server's output goes to a file, not a pipe: a full pipe would block it
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True", "--allow-root"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            pytest.fail("JupyterLab did not start: " + log_path.read_text()[-2000:])
        yield base, token, log_path
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def page(lab):
    """One JupyterLab page in Chromium; each notebook opens in a tab of it."""
    base, token, _ = lab
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows"])
        page = chromium.new_page(viewport=SCREEN)
        page.goto(f"{base}/lab?reset&token={token}")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=120_000)
        page.evaluate("() => window.jupyterapp.started")
        page.evaluate(PAGE_HELPERS)
        yield page
        chromium.close()


# Helpers installed in the page once: find a notebook's panel by path, its state, its
# controls and their views, and a view's signature (what it shows).
PAGE_HELPERS = r"""() => {
const CONTROLS = {
    slider: '.widget-slider', select: '.widget-dropdown, .widget-select',
    toggles: '.widget-toggle-buttons', radio: '.widget-radio',
    toggle: '.widget-toggle-button', checkbox: '.widget-checkbox', button: '.widget-button',
    text: '.widget-text, .widget-textarea', upload: '.widget-upload', play: '.widget-play',
    color: '.widget-colorpicker', date: '.widget-datepicker'};
const ANY = Object.values(CONTROLS).join(', ');
const U = window.uitest = {CONTROLS, ANY, kernelErrors: {}};
U.panel = path => window.jupyterapp.shell.widgets
    ? [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === path)
    : null;
U.state = path => {
    const panel = U.panel(path);
    if (!panel || !panel.sessionContext.session) { return null; }
    const code = panel.content.widgets.filter(c => c.model.type === 'code');
    const outputs = code.map(c => c.model.outputs.toJSON()).flat();
    const kernel = panel.sessionContext.session.kernel;
    return {cells: code.length,
            ran: code.filter(c => c.model.executionCount !== null).length,
            status: kernel ? kernel.status : 'none',
            errors: outputs.filter(o => o.output_type === 'error')
                           .map(o => o.ename + ': ' + o.evalue),
            tracebacks: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr'
                && /Traceback|Error/.test(o.text)).map(o => o.text),
            images: outputs.filter(o => o.data && o.data['image/png']).length,
            widgets: outputs.filter(o => o.data && o.data[
                'application/vnd.jupyter.widget-view+json']).length,
            kernelErrors: U.kernelErrors[path] || []};
};
// Open a notebook in a tab (not activated), wait for its kernel, record every error and
// stderr traceback the kernel sends from now on, and Run All.
U.open = async path => {
    const app = window.jupyterapp;
    const panel = await app.commands.execute('docmanager:open',
        {path, factory: 'Notebook', options: {mode: 'tab-after', activate: false}});
    await panel.context.ready;
    await panel.sessionContext.ready;
    const errors = U.kernelErrors[path] = [];
    panel.sessionContext.iopubMessage.connect((_, msg) => {
        const t = msg.header.msg_type, c = msg.content;
        if (t === 'error') { errors.push(c.ename + ': ' + c.evalue); }
        if (t === 'stream' && c.name === 'stderr' && /Traceback|Error/.test(c.text)) {
            errors.push(c.text);
        }
    });
    // not awaited: Run All goes on in its tab while the test works in another
    app.commands.execute('notebook:run-all-cells', {widgetId: panel.id, activate: false});
    return panel.id;
};
U.close = async path => {
    const panel = U.panel(path);
    if (panel) { await panel.sessionContext.shutdown(); panel.dispose(); }
};
// Every control in the panel (not the buttons inside a toggle-buttons group), tagged with
// data-uitest ids, with its kind, label, state and its view: the nnlib View around it,
// else the output area of its cell.
U.controls = path => {
    const panel = U.panel(path);
    const root = panel.node;
    const found = [...root.querySelectorAll(ANY)].filter(
        el => !el.parentElement.closest(ANY));
    const views = [];
    return found.map((el, i) => {
        const kind = Object.keys(CONTROLS).find(k => el.matches(CONTROLS[k]));
        const view = el.closest('.nnlib-view') || el.closest('.jp-OutputArea');
        if (!views.includes(view)) { views.push(view); }
        const v = views.indexOf(view);
        view.setAttribute('data-uitest-view', path + '#' + v);
        el.setAttribute('data-uitest', path + '#' + i);
        const cells = panel.content.widgets;
        const cell = cells.findIndex(c => c.node.contains(el));
        const nnlib = [...el.classList].map(c => c.match(/^nnlib-control-(\w+)$/))
                                      .find(m => m);
        const label = el.querySelector('.widget-label');
        const title = view.querySelector('.widget-html b');
        return {id: path + '#' + i, view: path + '#' + v, kind, cell,
                name: nnlib ? nnlib[1] : ((label && label.textContent.trim())
                                          || el.textContent.trim() || kind),
                title: title ? title.textContent.trim() : 'cell ' + cell,
                nnlibView: !!el.closest('.nnlib-view')};
    });
};
U.disabled = el => el.matches(':disabled, [disabled], .mod-disabled')
    || el.querySelector(':disabled, [disabled]') !== null;
U.hex = buf => [...new Uint8Array(buf)].map(b => b.toString(16).padStart(2, '0')).join('');
// What a view shows: a digest of each image's bytes, and its text without the controls'.
U.signature = async view => {
    const parts = [];
    for (const img of view.querySelectorAll('img')) {
        const src = img.getAttribute('src') || '';
        let bytes;
        try { bytes = await (await fetch(src)).arrayBuffer(); }
        catch (e) { bytes = new TextEncoder().encode(src); }
        parts.push(U.hex(await crypto.subtle.digest('SHA-256', bytes)));
    }
    const clone = view.cloneNode(true);
    clone.querySelectorAll(ANY).forEach(c => c.remove());
    parts.push(clone.textContent.replace(/\s+/g, ' ').trim());
    return parts.join('\n');
};
}"""


class Runner:
    """Runs the notebooks' Run All in tabs of one page, ``PARALLEL`` kernels at a time, in
    the order the tests will ask for them."""

    def __init__(self, page, order):
        self.page, self.order, self.started, self.done = page, order, {}, set()

    def _state(self, path):
        return self.page.evaluate("p => window.uitest.state(p)", path)

    def _finished(self, path):
        state = self._state(path)
        return state is not None and (state["errors"] or (
            state["ran"] == state["cells"] and state["status"] == "idle"))

    def _top_up(self):
        running = [p for p in self.started if p not in self.done]
        for path in self.order:
            if len(running) >= PARALLEL:
                break
            if path not in self.started:
                self.page.evaluate("p => window.uitest.open(p)", path)
                self.started[path] = time.time()
                running.append(path)

    def take(self, path):
        """Wait for ``path``'s Run All (starting it and the next ones as kernels free up);
        return its state and how long it ran."""
        if path not in self.started:
            self.order = [path] + [p for p in self.order if p != path]
        deadline = time.time() + RUN_TIMEOUT
        while True:
            for p in list(self.started):
                if p not in self.done and self._finished(p):
                    self.done.add(p)
            self._top_up()
            if path in self.done or time.time() > deadline:
                break
            self.page.wait_for_timeout(500)
        self.page.evaluate("""p => {const panel = window.uitest.panel(p);
                                   window.jupyterapp.shell.activateById(panel.id);}""", path)
        self.page.wait_for_timeout(300)
        return self._state(path), time.time() - self.started[path]

    def close(self, path):
        self.page.evaluate("p => window.uitest.close(p)", path)
        self.done.add(path)


@pytest.fixture(scope="module")
def runner(page, request):
    order = [item.callspec.params["path"] for item in request.session.items
             if getattr(item, "callspec", None) and "path" in item.callspec.params
             and item.module.__name__ == request.module.__name__]
    ARTIFACTS.mkdir(exist_ok=True)
    PROGRESS.write_text("")
    REPORT.write_text("# Browser test: every control moved\n\n"
                      "Written by tests/ui/test_browser.py (make ui-test).\n")
    return Runner(page, order)


# -- moving controls --------------------------------------------------------------------

def signature(page, view_id):
    return page.evaluate("""async v => window.uitest.signature(
        document.querySelector(`[data-uitest-view="${v}"]`))""", view_id)


def server_tracebacks(log_path, since):
    text = log_path.read_text(errors="replace")[since:]
    return [chunk for chunk in text.split("\n\n") if "Traceback" in chunk]


def settle(page, path, view_id, before, steady=True):
    """Wait until the view shows something other than ``before`` and the kernel is idle;
    return the new signature, or None when nothing changed within MOVE_TIMEOUT. With
    ``steady=False`` the first change will do (a playing animation never holds still)."""
    deadline = time.time() + MOVE_TIMEOUT
    last = None
    while time.time() < deadline:
        page.wait_for_timeout(150)
        now = signature(page, view_id)
        if now != before and not steady:
            return now
        idle = page.evaluate("p => window.uitest.state(p).status === 'idle'", path)
        if now != before and idle and now == last:
            return now
        last = now
    return None


def options_of(control, kind):
    """The labels of a selection control's options, in order."""
    where = {"select": "option", "toggles": "button", "radio": "label"}[kind]
    return [label.replace("\xa0", " ").strip()
            for label in control.locator(where).all_inner_texts()]


def current_option(control, kind):
    """The index of the chosen option (a list of them for a multiple select)."""
    if kind == "select":
        return control.locator("select").evaluate(
            "s => s.multiple ? [...s.options].map((o, i) => o.selected ? i : -1)"
            "                   .filter(i => i >= 0) : s.selectedIndex")
    if kind == "toggles":
        return control.locator("button").evaluate_all(
            "bs => bs.findIndex(b => b.classList.contains('mod-active'))")
    return control.locator("input[type=radio]").evaluate_all(
        "rs => rs.findIndex(r => r.checked)")


def pick(control, kind, index):
    """Choose option ``index`` (a list: those options of a multiple select)."""
    if kind == "select":
        control.locator("select").select_option(index=index)
    elif kind == "toggles":
        control.locator("button").nth(index).click()
    else:
        control.locator("input[type=radio]").nth(index).check()


def spread(n, limit=MAX_OPTIONS):
    """Up to ``limit`` indices out of ``range(n)``, evenly spread, first and last kept."""
    if n <= limit:
        return list(range(n))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})


def drag(page, control, fraction=None, x=None):
    """Drag a slider's (first) handle to ``fraction`` of its track, or to page ``x``;
    return the handle's centre before the drag."""
    handle, track = control.locator(".noUi-handle").first, control.locator(".noUi-base")
    handle.scroll_into_view_if_needed()
    hb, tb = handle.bounding_box(), track.bounding_box()
    x0, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    if x is None:
        if fraction is None:
            fraction = 0.8 if x0 < tb["x"] + tb["width"] / 2 else 0.2
        x = tb["x"] + tb["width"] * fraction
    page.mouse.move(x0, y)
    page.mouse.down()
    page.mouse.move(x, y, steps=8)
    page.mouse.up()
    return x0


def new_text(value):
    """A different valid entry for a text field: a number plus one, a shape with a
    leading 1 (broadcasts like the original), else the text with ' x' appended."""
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return str(int(number) + 1) if number == int(number) else f"{number * 1.5:g}"
    shape = re.fullmatch(r"\(\s*(.*?)\s*\)", value.strip())
    if shape:
        return f"(1, {shape.group(1).rstrip(',')})" if shape.group(1) else "(1,)"
    return value + " x"


def type_text(control, text):
    field = control.locator("input, textarea").first
    field.fill(text)
    field.press("Enter")
    field.evaluate("f => f.blur()")


def upload_picture(tmp_dir):
    """A small PNG of a drawn letter, for a file-upload control."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = tmp_dir / "uitest_letter.png"
    fig = plt.figure(figsize=(1, 1), dpi=32)
    fig.text(0.5, 0.5, "A", ha="center", va="center", fontsize=40)
    fig.savefig(path)
    plt.close(fig)
    return path


def choose_file(page, control, path):
    """Click a file-upload button and pick ``path`` in the file chooser it opens."""
    with page.expect_file_chooser(timeout=MOVE_TIMEOUT * 1000) as chooser:
        control.click()
    chooser.value.set_files(str(path))


class Mover:
    """Moves the controls of one notebook and records what each move changed."""

    def __init__(self, page, path, log_path, tmp_dir):
        self.page, self.path, self.log_path, self.tmp_dir = page, path, log_path, tmp_dir
        self.lines, self.failures = [], []

    def control(self, info):
        return self.page.locator(f'[data-uitest="{info["id"]}"]')

    def disabled(self, info):
        return self.control(info).evaluate("el => window.uitest.disabled(el)")

    def expect_change(self, info, what, before, action, log=True, steady=True):
        """Do ``action``; the view must show something else. Returns the new signature
        (with ``steady=False``, the first that differs: see :func:`settle`)."""
        action()
        after = settle(self.page, self.path, info["view"], before, steady)
        name = f"{info['title']} · {info['name']} ({info['kind']})"
        if after is None:
            self.failures.append(f"{name}: {what} did not change what the view shows")
            self.lines.append(f"  - {what}: **nothing changed (FAIL)**")
            return before
        if log:
            self.lines.append(f"  - {what}: view changed")
        return after

    def move(self, info):
        """Move one (enabled) control every way it goes, then put it back."""
        page, control, kind = self.page, self.control(info), info["kind"]
        control.scroll_into_view_if_needed()
        first = sig = signature(page, info["view"])
        if kind in ("select", "toggles", "radio"):
            labels = options_of(control, kind)
            start = current_option(control, kind)
            was = ([labels[i] for i in start] if isinstance(start, list)
                   else labels[start] if start >= 0 else None)
            for index in spread(len(labels)):
                if index != start and [index] != start:
                    sig = self.expect_change(info, f"picked {labels[index]!r}", sig,
                                             partial(pick, control, kind, index))
            if len(labels) > 1 and was is not None:
                back = self.expect_change(info, f"back to {was!r}", sig,
                                          partial(pick, control, kind, start))
                if back != first:
                    self.failures.append(
                        f"{info['title']} · {info['name']}: back on {was!r} the view does "
                        "not show its first picture again")
            else:
                self.failures.append(f"{info['title']} · {info['name']}: a single option")
        elif kind == "slider":
            x0 = {}
            sig = self.expect_change(info, "dragged", sig,
                                     lambda: x0.setdefault("x", drag(page, control)))
            self.expect_change(info, "dragged back", sig, lambda: drag(page, control,
                                                                       x=x0["x"]))
        elif kind in ("checkbox", "toggle"):
            target = control.locator("input").first if kind == "checkbox" else control
            sig = self.expect_change(info, "clicked", sig, target.click)
            self.expect_change(info, "clicked back", sig, target.click)
        elif kind == "text":
            old = control.locator("input, textarea").first.input_value()
            new = new_text(old)
            sig = self.expect_change(info, f"typed {new!r}", sig,
                                     lambda: type_text(control, new))
            self.expect_change(info, f"typed back {old!r}", sig,
                               lambda: type_text(control, old))
        elif kind == "upload":
            # ipywidgets' FileUpload is a button whose <input type=file> is never attached
            # to the page; a click opens the browser's file chooser, answered here
            picture = upload_picture(self.tmp_dir)
            self.expect_change(info, "uploaded a picture", sig,
                               partial(choose_file, page, control, picture))
        elif kind == "play":   # play, then pause (its second button) at the first new frame
            self.expect_change(info, "pressed play", sig,
                               control.locator("button").first.click, steady=False)
            control.locator("button").nth(1).click()
            settle(page, self.path, info["view"], None)
        elif kind == "button":
            self.expect_change(info, "clicked", sig, control.click)
        else:
            self.failures.append(f"{info['title']} · {info['name']}: the test does not "
                                 f"know how to move a {kind} control; teach it in Mover.move")

    def enable(self, info, controls):
        """Find a choice of another selection control of the same view that enables the
        disabled ``info``; leave it chosen and return a description, or None."""
        for other in controls:
            if other["view"] != info["view"] or other is info or self.disabled(other) \
                    or other["kind"] not in ("select", "toggles", "radio"):
                continue
            control = self.control(other)
            labels = options_of(control, other["kind"])
            start = current_option(control, other["kind"])
            sig = signature(self.page, info["view"])
            for index in range(len(labels)):
                if index == start or [index] == start:
                    continue
                sig = self.expect_change(other, f"picked {labels[index]!r}", sig,
                                         partial(pick, control, other["kind"], index),
                                         log=False)
                if not self.disabled(info):
                    return other, start, f"{other['name']} = {labels[index]!r}"
            self.expect_change(other, "back to its first choice", sig,
                               partial(pick, control, other["kind"], start), log=False)
        return None

    def run(self, controls):
        # a grid of alike controls (chapter 12's drawing pad: 256 toggle cells of one
        # view) is sampled: MAX_OPTIONS of them, evenly spread, stand for the rest
        alike = {}
        for info in controls:
            alike.setdefault((info["view"], info["kind"], info["name"]), []).append(info)
        keep = set()
        for (_, _, name), group in alike.items():
            picked = [group[i] for i in spread(len(group))]
            keep.update(id(info) for info in picked)
            if len(group) > len(picked):
                self.lines.append(f"- {group[0]['title']} · **{name}**: {len(group)} alike "
                                  f"controls, {len(picked)} of them moved (evenly spread)")
        controls = [info for info in controls if id(info) in keep]
        # what cannot be put back (a button, play, an upload) goes last in its view
        views = list(dict.fromkeys(info["view"] for info in controls))
        controls = sorted(controls, key=lambda info: (
            views.index(info["view"]), info["kind"] in ("button", "play", "upload")))
        for info in controls:
            since = self.log_path.stat().st_size
            self.lines.append(f"- {info['title']} · **{info['name']}** ({info['kind']}, "
                              f"cell {info['cell']})")
            restore = None
            if self.disabled(info):
                found = self.enable(info, controls)
                if found is None:
                    self.failures.append(
                        f"{info['title']} · {info['name']}: disabled for the default "
                        "selection and for every choice of the view's other controls")
                    self.lines.append("  - disabled, and no choice enables it: FAIL")
                    continue
                other, start, how = found
                self.lines.append(f"  - disabled for the default selection (does not "
                                  f"apply); enabled by {how}")
                restore = other, start
            started = time.time()
            self.move(info)
            with PROGRESS.open("a") as log:
                log.write(f"{datetime.now():%H:%M:%S} {self.path} {info['title']} · "
                          f"{info['name']} ({info['kind']}): {time.time() - started:.1f} s, "
                          f"{len(self.failures)} failures so far\n")
            if restore:
                other, start = restore
                control = self.control(other)
                self.expect_change(other, "selection restored", signature(
                    self.page, info["view"]), partial(pick, control, other["kind"], start))
            errors = self.page.evaluate("p => window.uitest.state(p).kernelErrors", self.path)
            errors += server_tracebacks(self.log_path, since)
            if errors:
                self.failures.append(f"{info['title']} · {info['name']}: the kernel "
                                     f"reported {errors}")
                self.page.evaluate("p => window.uitest.kernelErrors[p].length = 0",
                                   self.path)


def check_fits(page, view_id, name):
    """The view fits the notebook area of a 1400 x 900 screen; no label is cut off."""
    view = page.locator(f'[data-uitest-view="{view_id}"]')
    view.scroll_into_view_if_needed()
    box = view.bounding_box()
    area = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-notebook")
    width = area.bounding_box()["width"]
    assert box["width"] <= width + 1, f"{name}: {box['width']:.0f} px wide (> {width:.0f})"
    assert box["height"] <= SCREEN["height"] - 120, f"{name}: {box['height']:.0f} px high"
    cut = view.locator(".widget-label, button").evaluate_all(
        "els => els.filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)"
        "          .map(e => e.textContent)")
    assert not cut, f"{name}: labels cut off: {cut}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: Path(p).stem)
def test_notebook_runs_and_every_control_responds(lab, page, runner, path, tmp_path):
    _, _, log_path = lab
    stem = Path(path).stem
    since = log_path.stat().st_size
    try:
        state, seconds = runner.take(path)
        page.screenshot(path=str(ARTIFACTS / f"ui_{stem}_ran.png"))
        assert state is not None, f"{path} did not open"
        assert not state["errors"] and not state["tracebacks"], state
        assert state["ran"] == state["cells"], \
            f"{state['ran']} of {state['cells']} cells ran in {seconds:.0f} s"
        committed = committed_outputs(path)
        if committed:
            images, widgets = committed
            assert state["images"] == images, \
                f"{state['images']} image outputs, the committed run has {images}"
            assert state["widgets"] == widgets, \
                f"{state['widgets']} widgets shown, the committed run has {widgets}"
        else:
            assert state["images"] or state["widgets"], "no figure and no widget"

        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        broken = panel.locator(".jp-OutputArea-output").filter(
            has_text=re.compile(r"Error displaying widget|Loading widget\.\.\.")).count()
        assert not broken, f"{broken} widgets failed to display"
        math_errors = panel.locator("mjx-merror, .MathJax_Error").all_inner_texts()
        assert not math_errors, f"LaTeX that MathJax cannot render: {math_errors}"

        controls = page.evaluate("p => window.uitest.controls(p)", path)
        views = {}
        for info in controls:
            views.setdefault(info["view"], info)
        for view_id, info in views.items():
            if info["nnlibView"]:
                check_fits(page, view_id, info["title"])

        mover = Mover(page, path, log_path, tmp_path)
        mover.run(controls)
        for n, view_id in enumerate(views):
            page.locator(f'[data-uitest-view="{view_id}"]').screenshot(
                path=str(ARTIFACTS / f"ui_{stem}_view{n}.png"))
        with REPORT.open("a") as report:
            report.write(f"\n## {path}\n\nRun All: {state['cells']} code cells in "
                         f"{seconds:.0f} s; {len(views)} views, {len(controls)} controls.\n\n"
                         + "\n".join(mover.lines) + "\n")
        assert not mover.failures, "\n".join(mover.failures)
        state = page.evaluate("p => window.uitest.state(p)", path)
        assert not state["errors"] and not state["tracebacks"], state
        tracebacks = server_tracebacks(log_path, since)
        assert not tracebacks, f"the server's log has tracebacks: {tracebacks}"
    finally:
        runner.close(path)
