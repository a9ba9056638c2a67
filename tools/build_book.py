"""Build the course as a static website, offline: ``python tools/build_book.py [--out book]``.

Every notebook in ``chapters/``, ``examples/`` and ``exercises/`` becomes a page, in the
order of its ``NN_`` prefix and titled by its first heading, so a new chapter joins the
book with no change here. ``README.md`` is the landing page and each folder's README its
section's first page. Pages show the committed outputs (nothing is executed), the saved
state of the interactive views (``tools/book_widgets.py``), a sidebar with every page,
the page's own contents, and previous / next links. Links between notebooks point to the
built pages; a link to a file or heading that does not exist fails the build, listing
each one.

Nothing is fetched at build or read time: the math is typeset by the MathJax 3 copy that
the ``test`` extra installs (the ``django-static-mathjax`` package, or ``--mathjax DIR``
naming another MathJax 3 ``es5`` folder), copied into the site with the styles. The site
is written to ``<out>.partial`` and renamed when complete, so a failed build leaves the
previous site as it was.
"""

from __future__ import annotations

import argparse
import html
import importlib.util
import json
import posixpath
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_widgets  # noqa: E402  (the sibling module, found through the line above)

ROOT = Path(__file__).resolve().parents[1]
ASSETS = Path(__file__).resolve().parent / "book"
#: folder, section title, kind of its notebooks; in reading order
SECTIONS = (("chapters", "Chapters", "chapter"), ("examples", "Examples", "example"),
            ("exercises", "Exercises", "exercise"))
MARKER = ".nnlib-book"  # a folder holding this file is a built book: safe to replace
# nbval's markers are for the tests, not for the reader: whole lines, then line ends
NBVAL_LINE = re.compile(r"^[ \t]*# ?NBVAL_[A-Z_]+[ \t]*(\n|$)", re.MULTILINE)
NBVAL_END = re.compile(r"[ \t]*# ?NBVAL_[A-Z_]+[ \t]*$", re.MULTILINE)
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
ATTRIBUTE = re.compile(r"""(\s(?:href|src))=(?:"([^"]*)"|'([^']*)')""")
PAGE_HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)<a class="anchor-link"', re.DOTALL)
IDS = re.compile(r"""\sid=(?:"([^"]*)"|'([^']*)')""")
FILE_COPY_LIMIT = 20_000_000  # bytes: a link to anything bigger is a mistake, not a figure


class BookError(Exception):
    """The book cannot be built; the message lists every problem found."""


@dataclass
class Page:
    source: str            # path in the course folder, posix: "chapters/03_activations.ipynb"
    output: str            # path in the site: "chapters/03_activations.html"
    kind: str              # home, section, chapter, example, exercise or page
    title: str = ""        # the first heading, plain text
    label: str = ""        # the sidebar's shorter form of the title
    section: str = ""      # the folder of its section, "" for the landing page
    body: str = ""
    toc: list = field(default_factory=list)
    ids: set = field(default_factory=set)


# -- finding the pages ---------------------------------------------------------------
def order_key(path):
    """``NN_name`` files in the order of NN, then the others by name."""
    match = re.match(r"(\d+)_", path.name)
    return (0, int(match.group(1)), path.name) if match else (1, 0, path.name)


def plain(markdown):
    """A heading's Markdown as plain text for titles and the sidebar."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)  # links and images
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(\*\*|__|\*|_(?=\w)|(?<=\w)_|`)", "", text)
    return " ".join(text.split())


def first_heading(text):
    match = HEADING.search(text)
    return plain(match.group(2)) if match else ""


def notebook_title(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", ()):
        if cell.get("cell_type") == "markdown":
            title = first_heading(_source(cell))
            if title:
                return title
    return path.stem.split("_", 1)[-1].replace("_", " ").capitalize()


def sidebar_label(title, section_title):
    """``Exercises · 01 NumPy`` reads ``01 NumPy`` under the Exercises heading."""
    for word in (section_title, section_title.rstrip("s")):
        prefix = f"{word} · "
        if title.lower().startswith(prefix.lower()):
            return title[len(prefix):]
    return title


def output_path(source):
    """The site path of a source: notebooks and .md as .html, READMEs as index.html."""
    folder, name = posixpath.split(source)
    name = "index.html" if name.lower() == "readme.md" else posixpath.splitext(name)[0] + ".html"
    return posixpath.join(folder, name)


def discover(root):
    """The pages of the book in reading order: the landing page, then each section's
    README (when it has one) and its notebooks."""
    pages = []
    readme = root / "README.md"
    if not readme.exists():
        raise BookError(f"no README.md in {root}: the landing page is made from it.")
    pages.append(Page("README.md", "index.html", "home", section="",
                      title=first_heading(readme.read_text(encoding="utf-8")) or "The course"))
    for folder, section_title, kind in SECTIONS:
        notebooks = sorted((root / folder).glob("*.ipynb"), key=order_key)
        section_readme = root / folder / "README.md"
        if section_readme.exists():
            pages.append(Page(f"{folder}/README.md", f"{folder}/index.html", "section",
                              title=first_heading(section_readme.read_text(encoding="utf-8"))
                              or section_title, label=f"About the {section_title.lower()}",
                              section=folder))
        for path in notebooks:
            source = f"{folder}/{path.name}"
            title = notebook_title(path)
            pages.append(Page(source, output_path(source), kind, title=title,
                              label=sidebar_label(title, section_title), section=folder))
    return pages


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


# -- turning a notebook or a Markdown file into HTML ---------------------------------
def exporter():
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExtractOutputPreprocessor

    export = HTMLExporter(template_name="nnlib_book",
                          extra_template_basedirs=[str(ASSETS / "templates")],
                          exclude_input_prompt=True, exclude_output_prompt=True)
    export.register_preprocessor(ExtractOutputPreprocessor(
        output_filename_template="{unique_key}_{cell_index}_{index}{extension}"), enabled=True)
    return export


def render(page, root, export):
    """The page's body HTML and its files: ``{path in the site: bytes}``."""
    import nbformat

    path = root / page.source
    if page.source.endswith(".ipynb"):
        nb = nbformat.read(path, as_version=4)
    else:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
            path.read_text(encoding="utf-8"))])
    folder = posixpath.dirname(page.output)
    stem = posixpath.splitext(posixpath.basename(page.output))[0]
    files_dir = f"{stem}_files"
    files = {}

    def save_image(data, mime):
        extension = {"image/jpeg": ".jpg", "image/gif": ".gif", "image/svg+xml": ".svg",
                     "image/webp": ".webp"}.get(mime, ".png")
        name = f"{files_dir}/view_{len(files)}{extension}"
        files[posixpath.join(folder, name)] = data
        return name

    views = book_widgets.StaticView(book_widgets.saved_models(nb.metadata), save_image,
                                    page.source)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.source = NBVAL_END.sub("", NBVAL_LINE.sub("", cell.source))
        outputs = []
        for output in cell.get("outputs", ()):
            view = output.get("data", {}).get(book_widgets.WIDGET_VIEW)
            if view is None:
                outputs.append(output)
            elif not views.hidden(view.get("model_id")):
                outputs.append(nbformat.v4.new_output(
                    "display_data", data={"text/html": views.render(view.get("model_id"))}))
        if "outputs" in cell:
            cell.outputs = outputs
    nb.metadata.pop("widgets", None)
    body, resources = export.from_notebook_node(
        nb, resources={"unique_key": stem, "output_files_dir": files_dir})
    for name, data in (resources.get("outputs") or {}).items():
        files[posixpath.join(folder, name)] = data
    return body, files


# -- links ---------------------------------------------------------------------------
class Links:
    """Rewrites the relative links of a page to the built pages and files; collects what
    cannot be resolved, the Markdown files linked to (they become pages too) and the
    files to copy."""

    def __init__(self, root, pages):
        self.root, self.pages = root, {p.source: p for p in pages}
        self.problems, self.copies, self.fragments = [], {}, []
        self.new_pages, self.generated = [], set()

    def rewrite(self, page, body, generated=()):
        self.generated = set(generated)
        def fix(match):
            attribute = match.group(1)
            url = match.group(2) if match.group(2) is not None else match.group(3)
            new = self.resolve(page, html.unescape(url), attribute.strip())
            return f'{attribute}="{html.escape(new, quote=True)}"'
        return ATTRIBUTE.sub(fix, body)

    def resolve(self, page, url, attribute):
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not url:
            return url
        if not parts.path:  # "#heading" on this page
            self.fragments.append((page, page.output, unquote(parts.fragment), url))
            return url
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page.source),
                                                   unquote(parts.path)))
        where = f"{page.source}: {attribute} {url!r}"
        if target.startswith("../") or target == "..":
            self.problems.append(f"{where} points outside the course folder")
            return url
        path = self.root / target
        if path.is_dir() and (path / "README.md").exists():
            target = "README.md" if target == "." else f"{target}/README.md"
            path = path / "README.md"
        if target not in self.pages and target.lower().endswith(".md") and path.is_file():
            self.pages[target] = new = Page(target, output_path(target), "page",
                                            section=page.section)
            self.new_pages.append(new)
        if target in self.generated:  # the page's own figures, written beside it
            site_path = target
        elif target in self.pages:
            site_path = self.pages[target].output
            if parts.fragment:
                self.fragments.append((page, site_path, unquote(parts.fragment), url))
        elif path.is_file():
            if path.stat().st_size > FILE_COPY_LIMIT:
                self.problems.append(f"{where}: {target} is too big to copy into the site")
                return url
            self.copies[target] = path
            site_path = target
        else:
            self.problems.append(f"{where}: {target} does not exist")
            return url
        new = posixpath.relpath(site_path, posixpath.dirname(page.output) or ".")
        return quote(new) + (f"#{parts.fragment}" if parts.fragment else "")

    def check_fragments(self, by_output):
        for page, site_path, fragment, url in self.fragments:
            target = by_output.get(site_path)
            if target is not None and fragment not in target.ids:
                self.problems.append(f"{page.source}: link {url!r}: no heading or anchor "
                                     f"{fragment!r} in {target.source}")


def github_anchors(body):
    """Give each heading GitHub's anchor too (``#read-online`` for "Read online"): the
    READMEs link to their sections as GitHub names them, nbconvert names them as
    JupyterLab does (``#Read-online``); both work in the book."""
    seen = {}

    def alias(match):
        level, anchor, inner = match.groups()
        text = html.unescape(re.sub(r"<[^>]+>", "", inner.split('<a class="anchor-link"')[0]))
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        slug = f"{slug}-{count}" if count else slug
        if not slug or slug == unquote(anchor):
            return match.group(0)
        return (f'<h{level} id="{anchor}"><a class="book-alias" id="{html.escape(slug)}">'
                f"</a>{inner}</h{level}>")
    return re.sub(r'<h([1-6]) id="([^"]+)">(.*?)</h\1>', alias, body, flags=re.DOTALL)


def page_toc(body):
    """``[(level, id, inner HTML)]`` of the h2/h3 headings, for "On this page"."""
    return [(int(level), anchor, re.sub(r'<a class="book-alias"[^>]*></a>', "", inner).strip())
            for level, anchor, inner in PAGE_HEADING.findall(body)]


# -- MathJax and the static files -----------------------------------------------------
def mathjax_source(option=None):
    """The ``es5`` folder of a MathJax 3 copy: ``--mathjax`` or the installed package."""
    if option:
        folder = Path(option)
    else:
        spec = importlib.util.find_spec("mathjax")
        if spec is None or not spec.submodule_search_locations:
            raise BookError("MathJax is not installed: the book's math needs the local copy "
                            "of the test extra. Run `make book`, or "
                            "`pip install -e \".[test]\"`, or name a MathJax 3 es5 folder "
                            "with --mathjax.")
        folder = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (folder / "tex-chtml-full.js").is_file():
        raise BookError(f"no MathJax 3 in {folder}: expected tex-chtml-full.js there "
                        "(django-static-mathjax 3.x, or a MathJax 3 es5 folder).")
    return folder


def copy_mathjax(source, target):
    """The combined TeX-to-HTML bundle, its fonts and the parts its menu loads on demand;
    not the other combined bundles."""
    target.mkdir(parents=True)
    shutil.copy2(source / "tex-chtml-full.js", target / "tex-chtml-full.js")
    for part in ("output/chtml", "input/tex/extensions", "ui", "a11y", "sre", "adaptors"):
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
    licence = source.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, target / "LICENSE")


def pygments_css():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="friendly").get_style_defs(".highlight")


# -- the book ------------------------------------------------------------------------
def sidebar(pages):
    """The table of contents: the landing page, then one group per section."""
    groups = []
    for folder, section_title, _ in SECTIONS:
        members = [p for p in pages if p.section == folder and p.kind not in ("page", "section")]
        about = next((p for p in pages if p.section == folder and p.kind == "section"), None)
        if members or about:
            groups.append({"title": section_title, "pages": members, "about": about})
    return groups


def build(root=ROOT, out=None, mathjax=None, quiet=False):
    """Build the site into ``out`` (default ``<root>/book``); return the pages."""
    start = time.perf_counter()
    root = Path(root).resolve()
    out = Path(out).resolve() if out else root / "book"
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise BookError(f"{out} exists and is not a built book (no {MARKER} in it): "
                        "refusing to replace it. Choose another --out.")
    mathjax_es5 = mathjax_source(mathjax)
    pages = discover(root)
    reading = list(pages)  # the landing page, sections and notebooks; linked .md join below
    links = Links(root, pages)
    export = exporter()
    files = {}
    queue = list(pages)
    while queue:
        page = queue.pop(0)
        body, page_files = render(page, root, export)
        if not page.title:
            page.title = first_heading((root / page.source).read_text(encoding="utf-8")) \
                or page.source
        page.body = github_anchors(links.rewrite(page, body, page_files))
        page.toc = page_toc(page.body)
        page.ids = {unquote(html.unescape(a or b)) for a, b in IDS.findall(page.body)}
        files.update(page_files)
        queue.extend(links.new_pages)
        pages.extend(links.new_pages)
        links.new_pages = []
    links.check_fragments({p.output: p for p in pages})
    if links.problems:
        raise BookError("broken links:\n  " + "\n  ".join(links.problems))

    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        write_site(partial, root, pages, reading, files, links.copies, mathjax_es5)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    if not quiet:
        counts = {kind: sum(p.kind == kind for p in pages)
                  for kind in ("chapter", "example", "exercise")}
        print(f"built {len(pages)} pages ({counts['chapter']} chapters, {counts['example']} "
              f"examples, {counts['exercise']} exercise notebooks) into {out} in "
              f"{time.perf_counter() - start:.1f} s; open {out / 'index.html'}")
    return pages


def write_site(out, root, pages, reading, files, copies, mathjax_es5):
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ASSETS)),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             keep_trailing_newline=True)
    template = env.get_template("page.html.j2")
    static = out / "_static"
    shutil.copytree(ASSETS / "static", static)
    (static / "pygments.css").write_text(pygments_css(), encoding="utf-8")
    copy_mathjax(mathjax_es5, static / "mathjax")
    for target, source in copies.items():
        (out / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, out / target)
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))

    book_title = pages[0].title
    groups = sidebar(pages)
    by_source = {p.source: p for p in pages}
    for page in pages:
        here = posixpath.dirname(page.output) or "."

        def href(target, here=here):
            return posixpath.relpath(target.output, here)

        position = reading.index(page) if page in reading else None
        previous = reading[position - 1] if position else None
        following = reading[position + 1] if position is not None and \
            position + 1 < len(reading) else None
        stem = posixpath.basename(page.source)
        companion = None
        if page.kind == "chapter" and f"exercises/{stem}" in by_source:
            companion = ("Exercises for this chapter →", by_source[f"exercises/{stem}"])
        elif page.kind == "exercise" and f"chapters/{stem}" in by_source:
            companion = ("← Read the chapter first", by_source[f"chapters/{stem}"])
        text = template.render(
            page=page, book_title=book_title, home=pages[0], groups=groups, href=href,
            root=posixpath.relpath(".", here), previous=previous, next=following,
            companion=companion, body=page.body, toc=page.toc)
        target = out / page.output
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages: keep _static/
    (out / MARKER).write_text("built by tools/build_book.py; `make book` replaces this "
                              "folder\n", encoding="utf-8")
    manifest = [{"source": p.source, "output": p.output, "kind": p.kind, "title": p.title}
                for p in pages]
    (out / "pages.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="the site's folder (default: book/)")
    parser.add_argument("--root", default=str(ROOT), help="the course folder")
    parser.add_argument("--mathjax", default=None,
                        help="a MathJax 3 es5 folder to use instead of the installed package")
    args = parser.parse_args(argv)
    try:
        build(args.root, args.out, args.mathjax)
    except BookError as e:
        print(f"make book failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
