// The book's small helpers; every page reads fine without them.
// - the table-of-contents button on narrow screens;
// - a "Copy" button on each code cell;
// - the page's contents follow the reading position;
// - the arrow keys (with Alt, or alone when nothing is focused) turn the page.
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

  document.addEventListener("DOMContentLoaded", () => {
    menu();
    copyButtons();
    followReading();
    arrowKeys();
  });
}());
