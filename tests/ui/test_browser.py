"""Real-browser test: the course's notebooks in JupyterLab, in headless Chromium.

For every notebook in ``NOTEBOOKS`` (the pilot chapters and a dashboard demo) the test
opens it in a JupyterLab served on 127.0.0.1, runs all cells, and asserts that

- every code cell ran and none produced an error or a traceback; MathJax rendered all
  of the Markdown's LaTeX;
- the notebook shows the expected number of interactive views (``nnlib.viz.View``);
- each view fits a 1400 x 900 screen with its controls, and no control's label is cut;
- **every control of every view**, moved as a learner moves it (a slider dragged, a
  dropdown option picked, a toggle button clicked), changes the view's picture. A
  control that is disabled for the current selection is first enabled with the
  selection named in the notebook's ``enable`` entry, so a control that can never be
  reached fails the test.

A later chapter joins with one entry in ``NOTEBOOKS``. Screenshots of each view after
its controls moved go to test-artifacts/. Run with ``make ui-test`` (``make test`` runs
it when Chromium is installed). Playwright must use Debian's Chromium: its own browser
download does not work here.
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
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui
CHROMIUM = os.environ.get("NNLIB_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREEN = {"width": 1400, "height": 900}

#: path: the notebook; views: how many interactive views it shows; enable: for a control
#: disabled by default, the (control, choice) that enables it; images: at least this many
#: image outputs (static figures, a dashboard's final plot).
NOTEBOOKS = [
    {"path": "chapters/00_welcome.ipynb", "views": 0, "images": 1},
    {"path": "chapters/03_activations.ipynb", "views": 1, "images": 1,
     "enable": {"alpha": ("name", "elu")}},
    {"path": "chapters/05_softmax_cross_entropy.ipynb", "views": 1, "images": 1},
    {"path": "chapters/09_convolution.ipynb", "views": 2, "images": 2,
     "enable": {"seed": ("kernel", "random")}},
    {"path": "tests/ui/widgets_demo.ipynb", "views": 0, "images": 1},
]

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(config_dir):
    """Render every cell (no virtual scrolling: views below the fold must exist in the
    page) and no news pop-up over the notebook."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab"
    for extension, plugin, values in (
            ("notebook-extension", "tracker", {"windowingMode": "none"}),
            ("apputils-extension", "notification", {"fetchNews": "false",
                                                    "checkForUpdates": False})):
        folder = settings / extension
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    for entry in NOTEBOOKS:
        target = root / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / entry["path"], target)
    write_settings(root / ".jupyter")
    port, token = free_port(), "nnlib-ui-test"
    env = {**os.environ, "NNLIB_PROGRESS": str(root / "progress.json"),
           "JUPYTER_CONFIG_DIR": str(root / ".jupyter"), "MPLBACKEND": "Agg"}
    # the server's output goes to a file, not a pipe: a full pipe would block it
    with open(root / "jupyter.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
             f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
             "--LabApp.expose_app_in_browser=True", "--allow-root"],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            pytest.fail("JupyterLab did not start: " + (root / "jupyter.log").read_text()[-2000:])
        yield base, token
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


NOTEBOOK_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.sessionContext.session) { return null; }
    const code = panel.content.widgets.filter(c => c.model.type === 'code');
    const outputs = code.map(c => c.model.outputs.toJSON());
    const kernel = panel.sessionContext.session.kernel;
    return {cells: code.length,
            ran: code.filter(c => c.model.executionCount !== null).length,
            status: kernel ? kernel.status : 'none',
            errors: outputs.flat().filter(o => o.output_type === 'error')
                           .map(o => o.ename + ': ' + o.evalue),
            tracebacks: outputs.flat().filter(o => o.output_type === 'stream'
                && o.name === 'stderr' && /Traceback|Error/.test(o.text)).map(o => o.text),
            images: outputs.flat().filter(o => o.data && o.data['image/png']).length};
}"""


def run_all(page, timeout=240):
    """Run every cell and wait until each has an execution count and the kernel idles."""
    page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
    page.wait_for_function(f"({NOTEBOOK_STATE})() !== null && "
                           f"({NOTEBOOK_STATE})().status === 'idle'", timeout=60_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = page.evaluate(NOTEBOOK_STATE)
        if state["errors"]:
            break
        if state["ran"] == state["cells"] and state["status"] == "idle":
            break
        page.wait_for_timeout(500)
    return page.evaluate(NOTEBOOK_STATE)


def control_names(view):
    names = []
    for classes in view.locator("[class*='nnlib-control-']").evaluate_all(
            "els => els.map(e => e.className)"):
        names += re.findall(r"nnlib-control-(\w+)", classes)
    return names


def is_disabled(control):
    return control.evaluate("e => e.querySelector('[disabled]') !== null "
                            "|| e.hasAttribute('disabled')")


def move(page, control, choice=None):
    """Move one control as a learner would; ``choice`` picks an option by its label."""
    select = control.locator("select")
    if select.count():
        if choice is None:
            options = select.locator("option").all_inner_texts()
            current = select.evaluate("s => s.selectedIndex")
            select.select_option(index=(current + 1) % len(options))
        else:
            select.select_option(label=str(choice))
        return
    buttons = control.locator("button")
    if buttons.count():
        labels = buttons.all_inner_texts()
        active = control.locator("button.mod-active").all_inner_texts()
        target = str(choice) if choice is not None else next(t for t in labels
                                                              if t not in active)
        buttons.nth(labels.index(target)).click()
        return
    handle, track = control.locator(".noUi-handle"), control.locator(".noUi-base")
    handle.scroll_into_view_if_needed()
    hb, tb = handle.bounding_box(), track.bounding_box()
    x, y = hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2
    target = tb["x"] + tb["width"] * (0.75 if x < tb["x"] + tb["width"] / 2 else 0.25)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(target, y, steps=8)
    page.mouse.up()


def moved_and_redrawn(page, view, control, choice=None):
    """Move a control; True when the view's picture changed (within 30 s)."""
    image = view.locator("img.nnlib-view-image, .nnlib-view-image img, img").first
    before = image.get_attribute("src")
    move(page, control, choice)
    try:
        page.wait_for_function("([el, old]) => el.getAttribute('src') !== old",
                               arg=[image.element_handle(), before], timeout=30_000)
    except sync_api.TimeoutError:
        return False
    return True


def check_fits(panel, view, name):
    """The view fits the notebook area of a 1400 x 900 screen; no label is cut off."""
    box = view.bounding_box()
    area = panel.locator(".jp-NotebookPanel-notebook").bounding_box()
    assert box["width"] <= area["width"] + 1, f"{name}: {box['width']:.0f} px wide"
    assert box["height"] <= SCREEN["height"] - 120, f"{name}: {box['height']:.0f} px high"
    cut = view.locator(".widget-label, button").evaluate_all(
        "els => els.filter(e => e.offsetParent && e.scrollWidth > e.clientWidth + 1)"
        "          .map(e => e.textContent)")
    assert not cut, f"{name}: labels cut off: {cut}"


@pytest.mark.parametrize("entry", NOTEBOOKS, ids=lambda e: Path(e["path"]).stem)
def test_notebook_runs_and_every_control_of_every_view_responds(lab, browser, entry):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    stem = Path(entry["path"]).stem
    page = browser.new_page(viewport=SCREEN)
    try:
        page.goto(f"{base}/lab/tree/{entry['path']}?reset&token={token}")
        state = run_all(page)
        page.screenshot(path=str(ARTIFACTS / f"ui_{stem}_ran.png"))
        assert not state["errors"] and not state["tracebacks"], state
        assert state["ran"] == state["cells"], f"{state['ran']} of {state['cells']} cells ran"
        assert state["images"] >= entry["images"], state

        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        math_errors = panel.locator("mjx-merror, .MathJax_Error").all_inner_texts()
        assert not math_errors, f"LaTeX that MathJax cannot render: {math_errors}"
        views = panel.locator(".nnlib-view")
        assert views.count() == entry["views"], f"{views.count()} views"
        for v in range(views.count()):
            view = views.nth(v)
            title = view.locator(".widget-html").first.inner_text() or f"view {v}"
            view.scroll_into_view_if_needed()
            check_fits(panel, view, title)
            names = control_names(view)
            assert names, f"{title}: no controls found"
            moved = []
            for name in names:
                control = view.locator(f".nnlib-control-{name}")
                if is_disabled(control):
                    selector, choice = entry.get("enable", {}).get(name, (None, None))
                    assert selector, f"{title}: {name!r} is disabled and the test has no " \
                                     f"selection that enables it"
                    assert moved_and_redrawn(page, view, view.locator(
                        f".nnlib-control-{selector}"), choice), (title, selector)
                    assert not is_disabled(control), f"{title}: {name!r} stays disabled"
                assert moved_and_redrawn(page, view, control), \
                    f"{title}: moving {name!r} did not change the picture"
                moved.append(name)
            assert moved == names
            view.screenshot(path=str(ARTIFACTS / f"ui_{stem}_view{v}.png"))
        state = page.evaluate(NOTEBOOK_STATE)
        assert not state["errors"] and not state["tracebacks"], state
    finally:
        page.evaluate("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                      " && window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        page.close()
