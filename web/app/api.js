// The scigate API as the web app uses it (src/api/webapp.h serves the page): every call
// carries the token the user pasted, every failure becomes an ApiError with the server's
// message, and a 401 anywhere sends the app back to sign-in (scigate.api.onUnauthorized).
// Run events are read with fetch() and parsed here (EventSource cannot send the
// Authorization header, and a token must not travel in a URL).
(function () {
  "use strict";
  const scigate = (window.scigate = window.scigate || {});
  const TOKEN_KEY = "scigate.token";

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  const api = {
    ApiError,
    onUnauthorized: null, // set by main.js: (message) => show sign-in
    token: () => sessionStorage.getItem(TOKEN_KEY),
    setToken: (t) => sessionStorage.setItem(TOKEN_KEY, t),
    clearToken: () => sessionStorage.removeItem(TOKEN_KEY),
  };

  // The username inside the token, for the output prefix; "" when it cannot be read.
  api.username = function () {
    try {
      const part = (api.token() || "").split(".")[1];
      const claims = JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
      return String(claims.username || claims.sub || "");
    } catch (e) {
      return "";
    }
  };

  // {"error": {"code", "message"}} or anything else: an ApiError either way.
  async function errorOf(response) {
    let code = "http_" + response.status;
    let message = response.status + " " + (response.statusText || "error");
    try {
      const body = await response.json();
      if (body && body.error) {
        code = body.error.code || code;
        message = body.error.message || message;
      }
    } catch (e) {
      // not JSON: the status line says enough
    }
    return new ApiError(response.status, code, message);
  }

  // Sends one request; resolves to the parsed JSON (or the Response when opts.raw).
  api.request = async function (method, path, opts) {
    opts = opts || {};
    const headers = Object.assign({}, opts.headers || {});
    const token = api.token();
    if (token && !opts.anonymous) headers.Authorization = "Bearer " + token;
    let body = opts.body;
    if (body !== undefined && typeof body !== "string") {
      body = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
    let response;
    try {
      response = await fetch(path, { method, headers, body, signal: opts.signal, cache: "no-store" });
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiError(0, "network", "The server could not be reached (" + e.message + ").");
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401 && api.onUnauthorized) api.onUnauthorized(error.message);
      throw error;
    }
    if (opts.raw) return response;
    if (response.status === 204) return null;
    return response.json();
  };
  api.get = (path, opts) => api.request("GET", path, opts);

  // Encodes each segment of a relative path, keeping its slashes.
  api.encodePath = (path) => String(path).split("/").map(encodeURIComponent).join("/");
  api.query = (params) => new URLSearchParams(params).toString();

  // Splits an SSE stream into events: {event, data, id}. Lines starting with ":" are
  // comments (the server's pings).
  function sseParser(onEvent) {
    let buffer = "";
    let event = { event: "message", data: [], id: null };
    return function (chunk) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (event.data.length) onEvent({ event: event.event, data: event.data.join("\n"), id: event.id });
          event = { event: "message", data: [], id: null };
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") event.event = value;
        else if (field === "data") event.data.push(value);
        else if (field === "id") event.id = value;
      }
    };
  }
  api.sseParser = sseParser;

  const TERMINAL = new Set(["success", "failed", "canceled"]);
  api.isTerminal = (status) => TERMINAL.has(status);

  const sleep = (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      if (signal) signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
    });

  // Reads GET /runs/{id}/events until the run ends. Resolves "end" when it ended,
  // "unsupported" when the server has no such endpoint (404/405 before any event), and
  // reconnects from the last log offset when the stream breaks.
  async function streamEvents(runId, handlers, signal, state) {
    for (;;) {
      const headers = { Accept: "text/event-stream" };
      if (state.offset > 0) headers["Last-Event-ID"] = String(state.offset);
      let response;
      try {
        response = await api.request("GET", "/runs/" + encodeURIComponent(runId) + "/events", {
          headers,
          signal,
          raw: true,
        });
      } catch (e) {
        if (e.name === "AbortError" || signal.aborted) return "aborted";
        if (!state.seen && (e.status === 404 || e.status === 405)) return "unsupported";
        if (e.status === 401 || e.status === 403 || e.status === 404) throw e;
        handlers.onRetry && handlers.onRetry(e);
        await sleep(2000, signal);
        continue;
      }
      let ended = false;
      const parse = sseParser((ev) => {
        state.seen = true;
        const data = JSON.parse(ev.data);
        if (ev.event === "state") handlers.onState(data);
        else if (ev.event === "log") {
          if (ev.id !== null && /^\d+$/.test(ev.id)) state.offset = Number(ev.id);
          handlers.onLog(data.text || "");
        } else if (ev.event === "end") {
          ended = true;
          handlers.onState(data);
        }
      });
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parse(decoder.decode(value, { stream: true }));
        }
      } catch (e) {
        if (signal.aborted) return "aborted";
        // a broken stream: reconnect below
      }
      if (ended) return "end";
      if (signal.aborted) return "aborted";
      await sleep(1000, signal);
    }
  }

  // Polls GET /runs/{id} and /logs (a server without the events endpoint).
  async function poll(runId, handlers, signal, state) {
    const path = "/runs/" + encodeURIComponent(runId);
    for (;;) {
      const run = await api.get(path, { signal });
      handlers.onState(run);
      const response = await api.request("GET", path + "/logs", { signal, raw: true });
      const text = await response.text();
      if (text.length > state.logChars) handlers.onLog(text.slice(state.logChars));
      state.logChars = text.length;
      if (api.isTerminal(run.status)) return "end";
      await sleep(1500, signal);
      if (signal.aborted) return "aborted";
    }
  }

  // Follows a run: handlers.onState(run) for every change, handlers.onLog(text) for new
  // log text. Resolves when the run ended or `signal` aborted; rejects with an ApiError.
  api.followRun = async function (runId, handlers, signal) {
    const state = { offset: 0, seen: false, logChars: 0 };
    try {
      const how = await streamEvents(runId, handlers, signal, state);
      if (how !== "unsupported") return how;
      handlers.onMode && handlers.onMode("polling");
      return await poll(runId, handlers, signal, state);
    } catch (e) {
      if (e.name === "AbortError" || signal.aborted) return "aborted";
      throw e;
    }
  };

  // Loads a script or stylesheet once (MapLibre, OpenSeadragon are loaded on first use).
  const loaded = new Map();
  api.loadAsset = function (url) {
    if (!loaded.has(url)) {
      loaded.set(
        url,
        new Promise((resolve, reject) => {
          const css = /\.css(\?|$)/.test(url);
          const node = document.createElement(css ? "link" : "script");
          if (css) {
            node.rel = "stylesheet";
            node.href = url;
          } else {
            node.src = url;
          }
          node.onload = () => resolve();
          node.onerror = () => {
            loaded.delete(url);
            reject(new Error("could not load " + url));
          };
          document.head.appendChild(node);
        })
      );
    }
    return loaded.get(url);
  };

  scigate.api = api;
})();
