/* kholuu — a little progressive JavaScript. Every page works without it;
   this adds instant search, facet "more" toggles, the zoomable page viewer,
   previous/next hit navigation and copying a citation. No inline script. */
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  /* keyboard: "/" focuses the search box */
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !typing(document.activeElement) && !e.ctrlKey && !e.metaKey && !e.altKey) {
      var q = document.getElementById("q");
      if (q) { e.preventDefault(); q.focus(); q.select(); }
    }
  });

  /* facets: show the first values, a button for the rest */
  function initFacets(root) {
    root.querySelectorAll(".facet").forEach(function (facet) {
      var more = facet.querySelectorAll("li.more");
      if (!more.length || facet.querySelector(".toggle")) return;
      var b = document.createElement("button");
      b.type = "button";
      b.className = "toggle";
      b.setAttribute("aria-expanded", "false");
      b.textContent = "Xem thêm " + more.length;
      b.addEventListener("click", function () {
        var open = facet.classList.toggle("expanded");
        b.setAttribute("aria-expanded", open ? "true" : "false");
        b.textContent = open ? "Thu gọn" : "Xem thêm " + more.length;
      });
      facet.appendChild(b);
    });
  }

  /* instant search: results refresh while typing, the URL follows */
  function initInstant() {
    var form = document.getElementById("search-form");
    var box = document.getElementById("search-results");
    if (!form || !box || !window.fetch) return;
    var input = form.querySelector("input[data-instant]");
    var timer = null, seq = 0;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var value = input.value.trim();
        if (value.length === 1) return;
        var params = new URLSearchParams(new FormData(form));
        params.delete("page");
        var url = "/search?" + params.toString();
        var mine = ++seq;
        fetch(url, { headers: { "X-Kholuu-Partial": "1" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (html === null || mine !== seq) return;
            box.innerHTML = html;
            initFacets(box);
            history.replaceState(null, "", url);
          })
          .catch(function () { /* the form still submits normally */ });
      }, 300);
    });
  }

  /* page viewer: zoom */
  var ZOOMS = [0.5, 0.75, 1, 1.5, 2, 3];
  function initZoom() {
    var bar = document.querySelector(".viewer-bar");
    if (!bar) return;
    var level = 2;
    var label = bar.querySelector("[data-zoom-level]");
    function apply() {
      document.querySelectorAll(".page-image").forEach(function (el) {
        el.style.setProperty("--zoom", String(ZOOMS[level]));
      });
      if (label) label.textContent = Math.round(ZOOMS[level] * 100) + "%";
    }
    bar.querySelectorAll("[data-zoom]").forEach(function (b) {
      b.addEventListener("click", function () {
        var how = b.getAttribute("data-zoom");
        if (how === "in") level = Math.min(ZOOMS.length - 1, level + 1);
        else if (how === "out") level = Math.max(0, level - 1);
        else level = 2;
        apply();
      });
    });
    document.addEventListener("keydown", function (e) {
      if (typing(document.activeElement) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "+" || e.key === "=") { level = Math.min(ZOOMS.length - 1, level + 1); apply(); }
      else if (e.key === "-") { level = Math.max(0, level - 1); apply(); }
    });
  }

  /* page viewer: drag a zoomed page to move it */
  function initPan() {
    document.querySelectorAll(".page-frame").forEach(function (frame) {
      var start = null;
      frame.addEventListener("pointerdown", function (e) {
        if (e.button !== 0 || frame.scrollWidth <= frame.clientWidth && frame.scrollHeight <= frame.clientHeight) return;
        start = { x: e.clientX, y: e.clientY, left: frame.scrollLeft, top: frame.scrollTop };
        frame.setPointerCapture(e.pointerId);
        frame.classList.add("panning");
        e.preventDefault();
      });
      frame.addEventListener("pointermove", function (e) {
        if (!start) return;
        frame.scrollLeft = start.left - (e.clientX - start.x);
        frame.scrollTop = start.top - (e.clientY - start.y);
      });
      function stop() { start = null; frame.classList.remove("panning"); }
      frame.addEventListener("pointerup", stop);
      frame.addEventListener("pointercancel", stop);
    });
  }

  /* page viewer: previous / next hit across pages */
  function initHits() {
    var hits = Array.prototype.slice.call(document.querySelectorAll("svg.hits g.hit"));
    var status = document.querySelector("[data-hit-current]");
    if (!hits.length) return;
    var current = -1;
    function show(i, scroll) {
      if (current >= 0) hits[current].classList.remove("current");
      current = (i + hits.length) % hits.length;
      var g = hits[current];
      g.classList.add("current");
      if (status) status.textContent = String(current + 1);
      if (scroll) {
        g.scrollIntoView({ block: "center", inline: "center", behavior: "smooth" });
        history.replaceState(null, "", "#hit-" + (current + 1));
      }
    }
    document.querySelectorAll("[data-hitnav]").forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        show(a.getAttribute("data-hitnav") === "next" ? current + 1 : current - 1, true);
      });
    });
    document.addEventListener("keydown", function (e) {
      if (typing(document.activeElement) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "n" || e.key === "j") { e.preventDefault(); show(current + 1, true); }
      else if (e.key === "p" || e.key === "k") { e.preventDefault(); show(current - 1, true); }
    });
    var m = /^#hit-(\d+)$/.exec(location.hash);
    var pm = /^#page-(\d+)$/.exec(location.hash);
    if (m) show(parseInt(m[1], 10) - 1, true);
    else if (pm) {
      /* arrived at a page from the results: start at that page's first hit */
      var first = hits.findIndex(function (g) {
        var page = g.closest(".page");
        return page && parseInt(page.id.slice(5), 10) >= parseInt(pm[1], 10);
      });
      show(first < 0 ? 0 : first, false);
    } else show(0, false);
  }

  /* copy the citation */
  function initCopy() {
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var src = document.querySelector(b.getAttribute("data-copy"));
        var done = b.parentNode.querySelector(".copied");
        if (!src) return;
        var text = src.textContent.trim();
        function ok() { if (done) done.textContent = "Đã sao chép"; }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(ok, function () { selectText(src); });
        } else {
          selectText(src);
          try { if (document.execCommand("copy")) ok(); } catch (err) { /* selected for manual copy */ }
        }
      });
    });
  }
  function selectText(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  function init() {
    initFacets(document);
    initInstant();
    initZoom();
    initPan();
    initHits();
    initCopy();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
