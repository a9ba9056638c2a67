// The book's small helpers; every page reads fine without them.
// - the table-of-contents button on narrow screens;
// - a "Copy" button on each code cell;
// - the page's contents follow the reading position;
// - the arrow keys (with Alt, or alone when nothing is focused) turn the page;
// - the search box ("/" focuses it): every word must appear in one section of a page;
//   the index (_static/search-index.js, written by make book) loads on first use.
(function () {
  "use strict";

  function menu() {
    const button = document.querySelector(".book-menu-button");
    if (!button) { return; }
    button.addEventListener("click", () => {
      const open = document.body.classList.toggle("book-nav-open");
      button.setAttribute("aria-expanded", String(open));
    });
    document.querySelector(".book-main").addEventListener("click", () => {
      document.body.classList.remove("book-nav-open");
      button.setAttribute("aria-expanded", "false");
    });
    // the current page in view in the sidebar, without scrolling the page itself
    const sidebar = document.querySelector(".book-sidebar");
    const current = sidebar && sidebar.querySelector(".book-current");
    if (current) {
      const top = current.getBoundingClientRect().top - sidebar.getBoundingClientRect().top;
      if (top > sidebar.clientHeight - 60) { sidebar.scrollTop = top - sidebar.clientHeight / 2; }
    }
  }

  function copyButtons() {
    if (!navigator.clipboard) { return; }
    document.querySelectorAll(".jp-CodeCell .jp-Cell-inputWrapper").forEach((cell) => {
      const pre = cell.querySelector(".highlight pre");
      if (!pre) { return; }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "book-copy";
      button.textContent = "Copy";
      button.addEventListener("click", () => {
        navigator.clipboard.writeText(pre.innerText).then(() => {
          button.textContent = "Copied";
          setTimeout(() => { button.textContent = "Copy"; }, 1500);
        });
      });
      cell.appendChild(button);
    });
  }

  function followReading() {
    const links = Array.from(document.querySelectorAll(".book-pagetoc a"));
    if (!links.length || !("IntersectionObserver" in window)) { return; }
    const byId = new Map(links.map((a) => [decodeURIComponent(a.hash.slice(1)), a]));
    const headings = Array.from(byId.keys()).map((id) => document.getElementById(id))
      .filter(Boolean);
    const visible = new Set();
    const observer = new IntersectionObserver((entries) => {
      entries.forEach((e) => (e.isIntersecting ? visible.add(e.target) : visible.delete(e.target)));
      const first = headings.find((h) => visible.has(h));
      if (!first) { return; }
      links.forEach((a) => a.classList.remove("book-active"));
      byId.get(first.id).classList.add("book-active");
    }, {rootMargin: "0px 0px -70% 0px"});
    headings.forEach((h) => observer.observe(h));
  }

  function arrowKeys() {
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey) { return; }
      const active = document.activeElement;
      const typing = active && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(active.tagName);
      if (typing && !event.altKey) { return; }
      const rel = {ArrowLeft: "prev", ArrowRight: "next"}[event.key];
      const link = rel && document.querySelector(`link[rel="${rel}"]`);
      if (link) { window.location.href = link.href; }
    });
  }

  function search() {
    const box = document.querySelector(".book-search");
    const input = box && box.querySelector(".book-search-input");
    const panel = box && box.querySelector(".book-search-panel");
    if (!input || !panel) { return; }
    box.hidden = false;
    const root = input.dataset.root;
    let loading = null;
    let timer = null;
    let selected = -1;

    function index() {
      if (window.BOOK_SEARCH) { return Promise.resolve(window.BOOK_SEARCH); }
      if (!loading) {
        loading = new Promise((resolve, reject) => {
          const script = document.createElement("script");
          script.src = input.dataset.index;
          script.onload = () => resolve(window.BOOK_SEARCH || []);
          script.onerror = () => reject(new Error("no search index: run make book"));
          document.head.appendChild(script);
        });
      }
      return loading;
    }
    const fold = (text) => text.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
    const escape = (text) => text.replace(/[&<>"]/g,
      (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
    const count = (text, term) => {
      let n = 0;
      for (let i = text.indexOf(term); i >= 0 && n < 10; i = text.indexOf(term, i + term.length)) { n += 1; }
      return n;
    };

    function snippet(text, terms) {
      const folded = fold(text);
      // from just before the first word found; from the start when the words are only in
      // the heading or the page title
      const found = terms.map((t) => folded.indexOf(t)).filter((i) => i >= 0);
      const at = found.length ? Math.min(...found) : 0;
      const start = Math.max(0, at - 60);
      let piece = (start ? "…" : "") + text.slice(start, start + 170) + (start + 170 < text.length ? "…" : "");
      piece = escape(piece);
      terms.forEach((term) => {
        const pattern = new RegExp(escape(term).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
        piece = piece.replace(pattern, (m) => `<mark>${m}</mark>`);
      });
      return piece;
    }

    function show(hits, terms, total) {
      selected = -1;
      if (!hits.length) {
        panel.innerHTML = `<p class="book-search-none">No section has every word of “${escape(input.value.trim())}”.</p>`;
      } else {
        panel.innerHTML = `<p class="book-search-count">${total} section${total === 1 ? "" : "s"}` +
          `${total > hits.length ? `, the first ${hits.length}` : ""}</p><ol>` +
          hits.map((h) => {
            const url = `${root}/${h.page.u}${h.id ? `#${h.id}` : ""}`;
            const where = h.heading && h.heading !== h.page.t ? ` <span class="book-search-heading">› ${escape(h.heading)}</span>` : "";
            return `<li><a href="${escape(url)}"><span class="book-search-page">${escape(h.page.t)}</span>${where}` +
              `<span class="book-search-snippet">${snippet(h.text || h.heading, terms)}</span></a></li>`;
          }).join("") + "</ol>";
      }
      panel.hidden = false;
    }

    // The panel says which query its results are for, so Enter never opens the results of
    // what was typed before the last keys (the search waits 120 ms after each key).
    function run() {
      clearTimeout(timer);
      const query = input.value;
      const terms = fold(query).split(/\s+/).filter(Boolean);
      if (!terms.length) {
        panel.hidden = true; panel.innerHTML = ""; panel.dataset.query = query;
        return Promise.resolve();
      }
      return index().then((pages) => {
        const hits = [];
        pages.forEach((page) => {
          const title = fold(page.t);
          page.s.forEach(([id, heading, text]) => {
            const head = fold(heading);
            const body = fold(text);
            let score = {chapter: 3, example: 2, exercise: 1}[page.k] || 0;
            for (const term of terms) {
              const inTitle = title.includes(term);
              const inHead = head.includes(term);
              const times = count(body, term);
              if (!inTitle && !inHead && !times) { return; }
              score += (inTitle ? 2 : 0) + (inHead ? 4 : 0) + Math.min(times, 5) * 0.4;
            }
            hits.push({page, id, heading, text, score});
          });
        });
        hits.sort((a, b) => b.score - a.score);
        if (input.value !== query) { return; }   // a newer search is on its way
        show(hits.slice(0, 30), terms, hits.length);
        panel.dataset.query = query;
      }, (error) => {
        panel.innerHTML = `<p class="book-search-none">${escape(error.message)}</p>`;
        panel.hidden = false;
        panel.dataset.query = query;
      });
    }

    function move(step) {
      const links = Array.from(panel.querySelectorAll("a"));
      if (!links.length) { return; }
      selected = (selected + step + links.length) % links.length;
      links.forEach((a, i) => a.classList.toggle("book-search-selected", i === selected));
      links[selected].scrollIntoView({block: "nearest"});
    }

    input.addEventListener("focus", () => { index().catch(() => {}); });
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(run, 120); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Enter") {
        event.preventDefault();
        const open = () => {
          const links = panel.querySelectorAll("a");
          const link = links[Math.max(selected, 0)];
          if (link) { window.location.href = link.href; }
        };
        if (panel.dataset.query === input.value) { open(); } else { run().then(open); }
      } else if (event.key === "Escape") {
        input.value = ""; run(); input.blur();   // an empty query hides and clears the panel
      }
    });
    document.addEventListener("keydown", (event) => {
      const active = document.activeElement;
      if (event.key !== "/" || (active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName))) { return; }
      event.preventDefault();
      input.focus();
    });
    document.addEventListener("click", (event) => {
      if (!box.contains(event.target)) { panel.hidden = true; }
    });
    input.addEventListener("click", () => { if (panel.innerHTML) { panel.hidden = false; } });
  }

  document.addEventListener("DOMContentLoaded", () => {
    search();
    menu();
    copyButtons();
    followReading();
    arrowKeys();
  });
}());
