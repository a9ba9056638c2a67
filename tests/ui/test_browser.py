"""Real-browser test: JupyterLab on 127.0.0.1 in headless Chromium through Playwright.

Runs every cell of widgets_demo.ipynb, asserts that no cell output is an error, moves a
slider of the activation explorer and asserts that its picture changed. Screenshots go
to test-artifacts/. Run with ``make ui-test`` (``make test`` runs it when Chromium is
installed; ``.ci/run`` installs Debian's chromium). Playwright must use that browser:
its own browser download does not work here.
"""

import os
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

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(Path(__file__).with_name("widgets_demo.ipynb"), root)
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


def widget_images(page):
    return page.locator(".jp-OutputArea-output img")


def test_notebook_runs_and_a_slider_changes_the_view(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/widgets_demo.ipynb?token={token}")
        page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                               ".jp-Toolbar-kernelStatus, .jp-NotebookPanel", timeout=60_000)
        page.wait_for_timeout(3000)  # let the kernel connect
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(".jp-OutputArea-output pre", has_text="all cells ran").wait_for(
            timeout=120_000)
        widget_images(page).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "ui_after_run_all.png"), full_page=True)

        errors = page.locator(".jp-OutputArea-output[data-mime-type="
                              "'application/vnd.jupyter.stderr']")
        texts = [errors.nth(i).inner_text() for i in range(errors.count())]
        assert not [t for t in texts if "Error" in t or "Traceback" in t], texts
        prompts = page.locator(".jp-InputPrompt").all_inner_texts()
        assert not [t for t in prompts if "*" in t], prompts

        image = widget_images(page).first
        before = image.get_attribute("src")
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + 120, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        page.wait_for_function("([el, old]) => el.getAttribute('src') !== old",
                               arg=[image.element_handle(), before], timeout=30_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "ui_after_slider.png"), full_page=True)
        assert image.get_attribute("src") != before
        browser.close()
