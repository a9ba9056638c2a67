"""The static site's builder (tools/build_book.py) on small courses made here: new
notebooks join in NN_ order under their first heading, links between notebooks point to
the built pages, a broken link or anchor fails the build and names it, saved widget
views become their picture and controls (or a note), and nothing is loaded from outside.
The real course in a real browser: tests/ui/test_book.py."""

import base64
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_widgets  # noqa: E402
import build_book  # noqa: E402

# a 1x1 PNG, as the saved state of an ipywidgets Image holds it
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQ"
                       "DwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def write_notebook(path, *cells, metadata=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    nb.metadata.update(metadata or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def md(text):
    return nbformat.v4.new_markdown_cell(text)


def code(source, *outputs):
    return nbformat.v4.new_code_cell(source, execution_count=1, outputs=list(outputs))


@pytest.fixture
def mathjax(tmp_path):
    """A stand-in MathJax folder: these tests look at pages, not at typesetting."""
    folder = tmp_path / "mathjax-es5"
    (folder / "output" / "chtml" / "fonts").mkdir(parents=True)
    (folder / "tex-chtml-full.js").write_text("/* MathJax stand-in */")
    return folder


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "README.md").write_text(
        "# A small course\n\nStart with [the first chapter](chapters/00_start.ipynb), "
        "then [the exercises](exercises/02_middle.ipynb#Task-one), "
        "[as GitHub names it](exercises/02_middle.ipynb#task-one) and [top](#a-small-course).\n")
    write_notebook(root / "chapters" / "00_start.ipynb",
                   md("# 00 · Start *here*\n\nInline $a^2$ and a [next](02_middle.ipynb)."),
                   code("print(1)  # NBVAL_CHECK_OUTPUT\n# NBVAL_CHECK_OUTPUT\nx = 1",
                        nbformat.v4.new_output("stream", name="stdout", text="1\n")))
    write_notebook(root / "chapters" / "10_last.ipynb", md("Intro text\n\n## 10 · Last one"))
    write_notebook(root / "chapters" / "02_middle.ipynb", md("# 02 · Middle\n\n## Section A"),
                   md("Back to [the start](00_start.ipynb) and "
                      "[its exercises](../exercises/02_middle.ipynb)."))
    write_notebook(root / "exercises" / "02_middle.ipynb",
                   md("# Exercises · 02 Middle\n\n## Task one"),
                   code("raise NotImplementedError"))
    write_notebook(root / "examples" / "demo.ipynb", md("# Example · A demo"))
    (root / "examples" / "README.md").write_text("# Examples\n\n[demo](demo.ipynb)\n")
    return root


def test_notebooks_join_in_prefix_order_titled_by_their_first_heading(course, tmp_path,
                                                                      mathjax):
    out = tmp_path / "site"
    build_book.build(course, out, mathjax=mathjax, quiet=True)
    pages = json.loads((out / "pages.json").read_text())
    assert [p["source"] for p in pages] == [
        "README.md", "chapters/00_start.ipynb", "chapters/02_middle.ipynb",
        "chapters/10_last.ipynb", "examples/README.md", "examples/demo.ipynb",
        "exercises/02_middle.ipynb"]
    titles = {p["source"]: p["title"] for p in pages}
    assert titles["chapters/00_start.ipynb"] == "00 · Start here"
    assert titles["chapters/10_last.ipynb"] == "10 · Last one"   # first heading, not cell
    middle = (out / "chapters" / "02_middle.html").read_text()
    start = middle.index('class="book-sidebar"')
    sidebar = middle[start:middle.index("</nav>", start)]
    order = re.findall(r'href="([^"]+\.html)"', sidebar)
    assert order == ["../index.html", "00_start.html", "02_middle.html", "10_last.html",
                     "../examples/index.html", "../examples/demo.html",
                     "../exercises/02_middle.html"]
    assert 'aria-current="page">02 · Middle<' in sidebar
    assert '<link rel="prev" href="00_start.html">' in middle
    assert '<link rel="next" href="10_last.html">' in middle
    # the exercise notebook is listed without the section's word, and links back
    assert ">02 Middle</a>" in sidebar
    exercise = (out / "exercises" / "02_middle.html").read_text()
    assert 'href="../chapters/02_middle.html"' in exercise


def test_links_between_notebooks_point_to_the_built_pages(course, tmp_path, mathjax):
    out = tmp_path / "site"
    build_book.build(course, out, mathjax=mathjax, quiet=True)
    home = (out / "index.html").read_text()
    assert 'href="chapters/00_start.html"' in home
    assert 'href="exercises/02_middle.html#Task-one"' in home
    assert 'href="exercises/02_middle.html#task-one"' in home   # GitHub's anchor works too
    assert 'id="a-small-course"' in home
    middle = (out / "chapters" / "02_middle.html").read_text()
    assert 'href="00_start.html"' in middle
    assert 'href="../exercises/02_middle.html"' in middle
    for page in out.rglob("*.html"):
        assert ".ipynb\"" not in page.read_text(), page


def test_code_shows_without_test_markers_and_math_is_left_for_mathjax(course, tmp_path,
                                                                     mathjax):
    out = tmp_path / "site"
    build_book.build(course, out, mathjax=mathjax, quiet=True)
    start = (out / "chapters" / "00_start.html").read_text()
    assert "NBVAL" not in start
    assert "$a^2$" in start
    assert 'src="../_static/mathjax/tex-chtml-full.js"' in start
    assert (out / "_static" / "mathjax" / "tex-chtml-full.js").exists()
    # nothing on any page is loaded from another host
    for page in out.rglob("*.html"):
        text = page.read_text()
        loads = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]+)"', text)
        assert loads and not [u for u in loads if re.match(r"(https?:)?//", u)], page


def test_a_broken_link_or_anchor_fails_the_build_and_names_it(course, tmp_path, mathjax):
    out = tmp_path / "site"
    build_book.build(course, out, mathjax=mathjax, quiet=True)
    before = (out / "index.html").read_text()
    with (course / "README.md").open("a") as f:
        f.write("\nSee [chapter 7](chapters/07_training.ipynb) and "
                "[a section](chapters/02_middle.ipynb#No-such-heading).\n")
    with pytest.raises(build_book.BookError) as error:
        build_book.build(course, out, mathjax=mathjax, quiet=True)
    message = str(error.value)
    assert "README.md" in message and "chapters/07_training.ipynb does not exist" in message
    assert "'No-such-heading'" in message and "chapters/02_middle.ipynb" in message
    assert (out / "index.html").read_text() == before   # the previous site is untouched
    assert not (tmp_path / "site.partial").exists()


def test_linked_markdown_becomes_a_page_and_linked_files_are_copied(course, tmp_path,
                                                                     mathjax):
    (course / "benchmarks").mkdir()
    (course / "benchmarks" / "README.md").write_text("# Benchmarks\n\n![plot](plot.png)\n")
    (course / "benchmarks" / "plot.png").write_bytes(PNG)
    with (course / "README.md").open("a") as f:
        f.write("\nNumbers: [benchmarks](benchmarks/README.md).\n")
    out = tmp_path / "site"
    build_book.build(course, out, mathjax=mathjax, quiet=True)
    assert 'href="benchmarks/index.html"' in (out / "index.html").read_text()
    assert 'src="plot.png"' in (out / "benchmarks" / "index.html").read_text()
    assert (out / "benchmarks" / "plot.png").read_bytes() == PNG


def test_the_build_never_replaces_a_folder_it_did_not_make(course, tmp_path, mathjax):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(build_book.BookError, match="not a built book"):
        build_book.build(course, out, mathjax=mathjax, quiet=True)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_missing_mathjax_is_a_clear_error(course, tmp_path):
    with pytest.raises(build_book.BookError, match="no MathJax 3 in"):
        build_book.build(course, tmp_path / "site", mathjax=tmp_path, quiet=True)


def test_the_installed_mathjax_is_found():
    folder = build_book.mathjax_source()
    assert (folder / "tex-chtml-full.js").is_file()
    assert (folder / "output" / "chtml" / "fonts" / "woff-v2").is_dir()


# -- interactive views ---------------------------------------------------------------
def widget_state():
    """A view as nnlib.viz saves it: a title, a dropdown, a disabled slider, a hidden
    slider, and the picture as a base64 buffer."""
    def model(name, **state):
        return {"model_name": name, "model_module": "@jupyter-widgets/controls",
                "model_module_version": "2.0.0", "state": state}
    state = {
        "view": model("VBoxModel", children=["IPY_MODEL_title", "IPY_MODEL_row"],
                      _dom_classes=["nnlib-view"], layout="IPY_MODEL_plain"),
        "title": model("HTMLModel", value="<b>Activation explorer</b>"),
        "row": model("HBoxModel", children=["IPY_MODEL_name", "IPY_MODEL_alpha",
                                            "IPY_MODEL_hidden", "IPY_MODEL_image"]),
        "name": model("DropdownModel", description="activation", index=2,
                      _options_labels=["sigmoid", "tanh", "relu"]),
        "alpha": model("FloatSliderModel", description="alpha", value=0.25, min=0.0, max=1.0,
                       readout_format=".2f", disabled=True),
        "hidden": model("IntSliderModel", description="secret", value=3, min=0, max=5,
                        layout="IPY_MODEL_gone"),
        "gone": model("LayoutModel", display="none"),
        "plain": model("LayoutModel"),
        # a live dashboard hides its frame when training ends
        "dashboard": {**model("ImageModel", format="png", layout="IPY_MODEL_gone"),
                      "buffers": [{"path": ["value"], "encoding": "base64",
                                   "data": base64.b64encode(PNG).decode()}]},
        "image": {**model("ImageModel", format="png"),
                  "buffers": [{"path": ["value"], "encoding": "base64",
                               "data": base64.b64encode(PNG).decode()}]},
    }
    return {"widgets": {book_widgets.WIDGET_STATE: {"version_major": 2, "version_minor": 0,
                                                    "state": state}}}


def widget_output(model_id):
    return nbformat.v4.new_output("display_data", data={
        book_widgets.WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(HTML(value='<b>Activation explorer</b>'), ...))"})


def test_a_saved_view_shows_its_picture_and_controls_and_a_missing_one_a_note(course, tmp_path,
                                                                             mathjax):
    write_notebook(course / "chapters" / "03_views.ipynb", md("# 03 · Views"),
                   code("viz.activation_explorer()", widget_output("view")),
                   code("viz.other_view()", widget_output("not-saved")),
                   code("model.fit(callbacks=[dashboard])", widget_output("dashboard"),
                        nbformat.v4.new_output("stream", name="stdout", text="trained\n")),
                   metadata=widget_state())
    out = tmp_path / "site"
    build_book.build(course, out, mathjax=mathjax, quiet=True)
    page = (out / "chapters" / "03_views.html").read_text()
    assert "VBox(children=" not in page and book_widgets.WIDGET_VIEW not in page
    assert "widget-state" not in page
    views = re.findall(r'<figure class="book-view">.*?</figure>', page, re.DOTALL)
    assert len(views) == 1
    view = views[0]
    assert "<b>Activation explorer</b>" in view
    assert re.search(r'book-w-desc">activation</span><span [^>]*>relu</span>', view)
    assert re.search(r'book-w-control book-w-disabled[^>]*><span class="book-w-desc">alpha'
                     r'</span>.*?0\.25', view, re.DOTALL)
    assert "secret" not in view   # hidden with layout display: none
    image = re.search(r'<img [^>]*class="book-w-image[^>]*>', view).group(0)
    src = re.search(r'src="([^"]+)"', image).group(1)
    assert (out / "chapters" / src).read_bytes() == PNG
    assert "chapters/03_views.ipynb</code> in JupyterLab" in view
    missing = re.findall(r'<div class="book-view book-view-missing">(.*?)</div>', page,
                         re.DOTALL)
    assert len(missing) == 1 and "Run this notebook in JupyterLab to interact" in missing[0]
    # the hidden dashboard is left out, as JupyterLab shows it: its cell keeps its text
    assert page.count("book-w-image") == 1 and "trained" in page
    assert len(list((out / "chapters" / "03_views_files").glob("*.png"))) == 1


def test_every_saved_view_of_the_chapters_has_its_picture():
    """The committed chapters saved their widget state: each view shows a picture and
    its controls, none falls back to the note."""
    checked = 0
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        models = book_widgets.saved_models(nb.metadata)
        view = book_widgets.StaticView(models, lambda data, mime: "x.png", str(path))
        for cell in nb.cells:
            for output in cell.get("outputs", ()):
                ref = output.get("data", {}).get(book_widgets.WIDGET_VIEW)
                if ref and not view.hidden(ref["model_id"]):
                    rendered = view.render(ref["model_id"])
                    assert "book-view-missing" not in rendered, (path.name, ref)
                    assert view.images >= 1 and view.controls >= 1, (path.name, ref)
                    checked += 1
    assert checked >= 1


# -- how the site is built, tested and published ------------------------------------
def test_readme_workflow_and_makefile_say_how_to_build_test_and_publish_the_site():
    import subprocess

    import yaml

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Read online"):]
    section = section[:section.index("\n## ", 3)]
    for words in ("make book", "book/index.html", "http.server --bind 127.0.0.1",
                  ".github/workflows/pages.yml", "GitHub Pages", "make test"):
        assert words in section, words
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    trigger = workflow.get("on", workflow.get(True))   # YAML 1.1 reads a bare `on` as True
    assert trigger["push"]["branches"] == ["main"]
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    assert any(s.get("run") == "make book" for s in steps)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages"))
    assert upload["with"]["path"] == "book"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)
    assert "book/" in (ROOT / ".gitignore").read_text().split()
    dry = subprocess.run(["make", "-n", "book", "ui-test"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert "tools/build_book.py --out book" in dry and "NNLIB_BOOK=" in dry
