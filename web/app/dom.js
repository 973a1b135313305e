// DOM helpers of the web app. Every text a user or the server supplied reaches the page
// through textContent or a DOM property, never innerHTML: names and metadata with markup
// stay text.
(function () {
  "use strict";
  const scigate = (window.scigate = window.scigate || {});

  // h("a", {href, class, onclick: fn, "aria-label": ...}, child, ...): strings become text
  // nodes, null/false children are skipped, arrays are flattened.
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key in node && typeof value !== "string") node[key] = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children) {
      if (child === null || child === undefined || child === false || child === "") continue;
      if (Array.isArray(child)) append(node, child);
      else node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // Replaces the children of `node` (null children skipped, unlike Node.append's "null").
  function fill(node, ...children) {
    return append(clear(node), children);
  }

  // Only http(s) links from the server become hrefs (no javascript: or data: URLs).
  function safeHref(url) {
    try {
      const u = new URL(url, window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function formatBytes(n) {
    if (typeof n !== "number") return "";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
    return (i === 0 ? String(n) : n.toFixed(1)) + " " + units[i];
  }

  function formatTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toLocaleString();
  }

  function statusBadge(status) {
    return h("span", { class: "badge badge-" + String(status).replace(/[^a-z]/g, ""), text: status });
  }

  // A <progress> with its numbers beside it, for a run's tasks.
  function progress(p) {
    const done = (p && p.tasks_done) || 0;
    const total = (p && p.tasks_total) || 0;
    const label = total ? done + " / " + total + " tasks" : "—";
    return h(
      "span",
      { class: "progress" },
      total ? h("progress", { max: total, value: done, "aria-label": label }) : null,
      h("span", { class: "muted", text: label })
    );
  }

  // A table that scrolls sideways on a narrow screen instead of widening the page; with
  // `stack`, each row becomes a small card there instead (cells labelled by their header).
  function table(headers, rows, caption, stack) {
    return h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: stack ? "stack" : null },
        caption ? h("caption", { class: "sr-only", text: caption }) : null,
        h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", { dataset: { label: headers[i] } }, c)))))
      )
    );
  }

  // The message line under the header (errors, confirmations); role=alert reads it out.
  function flash(text, kind) {
    const node = document.getElementById("flash");
    if (!text) {
      node.hidden = true;
      node.textContent = "";
      return;
    }
    node.className = "flash flash-" + (kind || "error");
    node.textContent = text;
    node.hidden = false;
  }

  function errorBox(error, retry) {
    const status = error && error.status ? " (HTTP " + error.status + ")" : "";
    return h(
      "div",
      { class: "error-box", role: "alert" },
      h("p", { text: ((error && error.message) || String(error)) + status }),
      retry ? h("button", { type: "button", onclick: retry, text: "Try again" }) : null
    );
  }

  // "#/a/b" built from raw segments, each encoded.
  function route(...segments) {
    return "#/" + segments.map((s) => encodeURIComponent(s)).join("/");
  }

  scigate.dom = { h, append, clear, fill, safeHref, formatBytes, formatTime, statusBadge, progress, table, flash, errorBox, route };
})();
