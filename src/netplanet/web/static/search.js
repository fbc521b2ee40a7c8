/* netplanet's static export: search the index in search/*.js without a server.
   Words must all match (title, text, source); "a phrase" matches in order; prefix* is a
   prefix; -word leaves out posts containing it. Filters: topic, category, source. */
(function () {
  "use strict";
  var idx = window.npSearchIndex;
  var out = document.getElementById("search-results");
  if (!idx || !out) { return; }
  var params = new URLSearchParams(window.location.search);
  var q = (params.get("q") || "").trim();
  var want = { topic: params.get("topic") || "", category: params.get("category") || "",
               source: params.get("source") || "" };
  var box = document.getElementById("site-search");
  if (box) { box.value = q; }
  ["topic", "category", "source"].forEach(function (name) {
    var sel = document.getElementById("search-" + name);
    if (sel && want[name]) { sel.value = want[name]; }
  });
  var here = document.querySelector("script[data-search-index]").getAttribute("src");
  var dir = here.slice(0, here.lastIndexOf("/") + 1);
  var root = dir + "../";

  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function terms(query) {
    var found = [], re = /(-?)"([^"]+)"|(-?)(\S+)/g, m;
    while ((m = re.exec(query)) !== null) {
      var neg = (m[1] || m[3]) === "-", text = fold(m[2] || m[4]);
      if (text === "or" || text === "and") { continue; }
      if (text === "not") { continue; }
      var prefix = text.slice(-1) === "*";
      text = text.replace(/\*+$/, "");
      if (text) { found.push({ neg: neg, text: text, prefix: prefix, phrase: !!m[2] }); }
    }
    return found;
  }
  function matches(hay, t) {
    if (t.phrase || t.prefix) {
      var at = hay.indexOf(t.phrase ? t.text : " " + t.text);
      return at >= 0;
    }
    return (" " + hay + " ").search(new RegExp("[^a-z0-9]" + t.text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "[^a-z0-9]")) >= 0;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }
  function show(rows) {
    var list = terms(q), wanted = list.filter(function (t) { return !t.neg; });
    out.textContent = "";
    if (!q) { return; }
    if (!list.length) {
      out.appendChild(el("p", "problem", "“" + q + "” has no words to search for."));
      return;
    }
    var hits = [];
    rows.forEach(function (r) {
      if (want.topic && (" " + r[5] + " ").indexOf(" " + want.topic + " ") < 0) { return; }
      if (want.category && (" " + r[6] + " ").indexOf(" " + want.category + " ") < 0) { return; }
      var src = idx.sources[String(r[3])] || ["", ""];
      if (want.source && src[0] !== want.source) { return; }
      var hay = " " + fold(r[1] + " " + r[7] + " " + src[1]) + " ";
      for (var i = 0; i < list.length; i++) {
        if (matches(hay, list[i]) === list[i].neg) { return; }
      }
      hits.push(r);
    });
    hits.sort(function (a, b) { return a[4] < b[4] ? 1 : a[4] > b[4] ? -1 : b[0] - a[0]; });
    var count = hits.length === 1 ? "1 result" : hits.length.toLocaleString("en") + " results";
    if (!wanted.length) { count = hits.length + " posts without these words, newest first"; }
    out.appendChild(el("p", "result-count", hits.length ? count : ""));
    if (!hits.length) {
      var empty = el("section", "empty");
      empty.appendChild(el("h2", "", "No results"));
      empty.appendChild(el("p", "", "Nothing matched “" + q + "”. Try fewer or different words."));
      out.appendChild(empty);
      return;
    }
    hits.slice(0, 100).forEach(function (r) {
      var src = idx.sources[String(r[3])] || ["", ""];
      var art = el("article", "post");
      var h = el("h2", "post-title");
      var a = el("a", "", r[1]);
      a.href = r[2] || root + "post/" + r[0] + "/index.html";
      a.rel = "noopener";
      h.appendChild(a);
      art.appendChild(h);
      var meta = el("p", "meta");
      var s = el("a", "source", src[1]);
      s.href = root + "source/" + src[0] + "/index.html";
      meta.appendChild(s);
      meta.appendChild(document.createTextNode(" · "));
      var when = el("a", "when");
      when.href = root + "post/" + r[0] + "/index.html";
      when.title = "Permalink";
      var time = el("time", "", r[4] || "date unknown");
      if (r[4]) { time.setAttribute("datetime", r[4]); }
      when.appendChild(time);
      meta.appendChild(when);
      art.appendChild(meta);
      var ex = el("div", "excerpt");
      ex.appendChild(el("p", "", r[7]));
      art.appendChild(ex);
      out.appendChild(art);
    });
    if (hits.length > 100) {
      out.appendChild(el("p", "hint", "The 100 newest of " + hits.length.toLocaleString("en") + " results; add words to narrow them."));
    }
  }

  var pending = idx.shards.length;
  function loaded() {
    pending -= 1;
    if (pending <= 0) {
      var rows = [];
      (window.npSearchRows || []).forEach(function (part) { rows = rows.concat(part); });
      show(rows);
    }
  }
  if (!q) { return; }
  out.appendChild(el("p", "result-count", "Searching…"));
  if (!pending) { show([]); return; }
  idx.shards.forEach(function (name) {
    var tag = document.createElement("script");
    tag.src = dir + name;
    tag.onload = loaded;
    tag.onerror = loaded;
    document.body.appendChild(tag);
  });
})();
