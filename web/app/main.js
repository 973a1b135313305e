// The web app's router: the URL fragment names the view (#/runs, #/runs/ID, #/workflows/ID,
// #/data/ID/folder/, ...; segments percent-encoded), so the server serves one page and
// nothing of the navigation reaches its logs. A sign-in link carries the token in the
// fragment (#token=...), which the app moves to sessionStorage and removes from the URL.
(function () {
  "use strict";
  const scigate = window.scigate;
  const { api, views } = scigate;
  const { h, fill, flash, errorBox } = scigate.dom;

  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  let controller = null; // aborts the current view's work on navigation
  let afterSignIn = "#/runs";

  // [pattern of segments, view]; "*" matches one segment, "**" the rest (joined).
  const ROUTES = [
    [["runs"], views.runsList],
    [["runs", "*"], views.runDetail],
    [["runs", "*", "files", "**"], views.runFiles],
    [["runs", "*", "view", "**"], views.runView],
    [["workflows"], views.workflowsList],
    [["workflows", "*"], views.workflowForm],
    [["data"], views.dataList],
    [["data", "*", "view", "**"], views.dataView],
    [["data", "*", "**"], views.dataBrowse],
    [["data", "*"], views.dataBrowse],
  ];

  function parse(hash) {
    const [path, query] = hash.replace(/^#\/?/, "").split("?");
    const segments = path === "" ? [] : path.split("/").map((s) => {
      try {
        return decodeURIComponent(s);
      } catch (e) {
        return s;
      }
    });
    return { segments, query: new URLSearchParams(query || "") };
  }

  function match(segments) {
    for (const [pattern, view] of ROUTES) {
      const params = [];
      let ok = true;
      for (let i = 0; i < pattern.length && ok; i++) {
        if (pattern[i] === "**") {
          if (i < segments.length) return { view, params: params.concat(segments.slice(i).join("/")) };
          ok = false;
          break;
        }
        if (i >= segments.length) ok = false;
        else if (pattern[i] === "*") params.push(segments[i]);
        else ok = pattern[i] === segments[i];
      }
      if (ok && pattern.length === segments.length) return { view, params };
    }
    return null;
  }

  function stopView() {
    if (controller) controller.abort();
    controller = new AbortController();
    return controller.signal;
  }

  function showSignIn(message) {
    stopView();
    nav.hidden = true;
    flash("");
    views.signIn(main, message);
  }

  async function render(event) {
    // A sign-in link: #token=JWT (the fragment never reaches the server).
    const fromLink = /^#token=([^&]+)/.exec(window.location.hash);
    if (fromLink) {
      api.setToken(decodeURIComponent(fromLink[1]));
      history.replaceState(null, "", window.location.pathname + "#/runs");
    }
    if (!api.token()) {
      if (window.location.hash && !fromLink) afterSignIn = window.location.hash;
      showSignIn("");
      return;
    }
    nav.hidden = false;
    const { segments, query } = parse(window.location.hash);
    if (segments.length === 0) {
      history.replaceState(null, "", window.location.pathname + "#/runs");
      segments.push("runs");
    }
    for (const a of nav.querySelectorAll("a")) {
      if (a.getAttribute("href") === "#/" + segments[0]) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const signal = stopView();
    flash("");
    const found = match(segments);
    if (!found) {
      fill(main, h("h1", { text: "Not found" }), h("p", {}, "Nothing here. ", h("a", { href: "#/runs", text: "Your runs" })));
      return;
    }
    fill(main, h("p", { class: "muted", text: "Loading…" }));
    // After a link was followed, keyboard focus starts at the new content.
    if (event && event.type === "hashchange") main.focus({ preventScroll: true });
    try {
      await found.view(main, found.params, signal, query);
    } catch (e) {
      if (e.name === "AbortError" || signal.aborted || e.status === 401) return;
      console.warn("view failed", e); // a warning, not an error: the page shows it
      fill(main, h("h1", { text: "Something went wrong" }), errorBox(e, () => render()));
    }
  }

  // Any 401: the token expired or was refused. Back to sign-in, saying why.
  api.onUnauthorized = (message) => {
    if (!api.token()) return;
    api.clearToken();
    if (api.signingIn) {
      showSignIn("That token was refused (" + message + ").");
      return;
    }
    afterSignIn = window.location.hash || "#/runs";
    showSignIn("Your session has ended (" + message + "). Sign in again with a fresh token.");
  };

  scigate.main = {
    signedIn() {
      const target = afterSignIn || "#/runs";
      afterSignIn = "#/runs";
      if (window.location.hash === target) render();
      else window.location.hash = target;
    },
  };

  document.getElementById("sign-out").addEventListener("click", () => {
    api.clearToken();
    afterSignIn = "#/runs";
    history.replaceState(null, "", window.location.pathname);
    showSignIn("You are signed out.");
  });
  window.addEventListener("hashchange", render);
  // A failure that escaped a view is shown, never a blank page.
  window.addEventListener("unhandledrejection", (e) => {
    if (e.reason && e.reason.name === "AbortError") return e.preventDefault();
    flash("Unexpected error: " + ((e.reason && e.reason.message) || e.reason));
  });
  render();
})();
