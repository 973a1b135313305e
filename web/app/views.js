// The views of the web app, one function per route (main.js routes by fragment). Each
// gets the <main> element, its route parameters and an AbortSignal that fires when the
// user navigates away (it stops streams, polls and fetches of the old view).
(function () {
  "use strict";
  const scigate = window.scigate;
  const { api } = scigate;
  const { h, fill, route, flash, table, statusBadge, progress, formatBytes, formatTime, safeHref } = scigate.dom;

  const heading = (text) => h("h1", { tabindex: "-1", text });

  // ---- sign in ----
  function signIn(main, message) {
    const input = h("textarea", { id: "token", name: "token", rows: "4", required: true, autocomplete: "off", spellcheck: "false", "aria-describedby": "token-help" });
    const error = h("p", { class: "field-error", id: "token-error", role: "alert" });
    const form = h(
      "form",
      { class: "card sign-in", "aria-labelledby": "sign-in-title" },
      h("h1", { id: "sign-in-title", tabindex: "-1", text: "Sign in" }),
      message ? h("p", { class: "flash flash-error", role: "alert", id: "sign-in-message", text: message }) : null,
      h("label", { for: "token", text: "Access token" }),
      input,
      h("p", { class: "muted", id: "token-help", text: "Paste the token your platform gave you (for the demo: the one make demo prints). It is kept in this browser tab only." }),
      error,
      h("button", { type: "submit", class: "primary", text: "Sign in" })
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const token = input.value.trim().replace(/^Bearer\s+/i, "");
      if (!token) {
        error.textContent = "Paste a token first.";
        input.focus();
        return;
      }
      api.setToken(token);
      api.signingIn = true;
      try {
        await api.get("/workflows");
        scigate.main.signedIn();
      } catch (err) {
        if (err.status !== 401) error.textContent = err.message;
      } finally {
        api.signingIn = false;
      }
    });
    fill(main, form);
    (message ? form.querySelector("h1") : input).focus();
  }

  // ---- runs ----
  // Every run of the caller, newest first: one listing per workflow (the API lists runs
  // per workflow), merged.
  async function allRuns(signal) {
    const { workflows } = await api.get("/workflows", { signal });
    const lists = await Promise.all(workflows.map((w) => api.get("/workflows/" + encodeURIComponent(w.id) + "/runs?limit=100", { signal })));
    const runs = lists.flatMap((l) => l.runs).sort((a, b) => String(b.created_time).localeCompare(String(a.created_time)));
    // Listings carry no progress: the runs still going (a few) are asked one by one.
    const active = runs.filter((r) => !api.isTerminal(r.status)).slice(0, 10);
    const details = await Promise.all(active.map((r) => api.get("/runs/" + encodeURIComponent(r.run_id), { signal }).catch(() => r)));
    const byId = new Map(details.map((d) => [d.run_id, d]));
    return runs.map((r) => byId.get(r.run_id) || r);
  }

  function runRows(runs) {
    return runs.map((r) => [
      h("a", { href: route("runs", r.run_id), text: r.run_id }),
      r.workflow_id,
      r.data_selection,
      statusBadge(r.status),
      progress(r.progress),
      formatTime(r.created_time),
    ]);
  }

  async function runsList(main, params, signal) {
    const body = h("div", { id: "runs", "aria-live": "polite" }, h("p", { class: "muted", text: "Loading runs…" }));
    fill(main, heading("Runs"), h("p", {}, h("a", { href: "#/workflows", class: "button", text: "Start a run" })), body);
    // Polled while a run is queued or running (a list has no event stream), slower once
    // everything finished.
    for (;;) {
      const runs = await allRuns(signal);
      if (signal.aborted) return;
      fill(body,
        runs.length
          ? table(["Run", "Workflow", "Data selection", "Status", "Progress", "Created"], runRows(runs), "Your runs", true)
          : h("p", { class: "empty", text: "No runs yet. Start one from a workflow." })
      );
      body.dataset.loaded = "true";
      const active = runs.some((r) => !api.isTerminal(r.status));
      await new Promise((resolve) => {
        // A hidden tab asks rarely: nobody is looking.
        const t = setTimeout(resolve, active && !document.hidden ? 2000 : 15000);
        signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
      if (signal.aborted) return;
    }
  }

  function definitionList(entries) {
    return h("dl", { class: "props" }, entries.map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]));
  }

  async function runDetail(main, params, signal) {
    const runId = params[0];
    let run = await api.get("/runs/" + encodeURIComponent(runId), { signal });
    const title = heading("Run " + runId);
    const summary = h("div", { id: "run-summary" });
    const cancel = h("button", { type: "button", id: "cancel", class: "danger", text: "Cancel run" });
    const logs = h("pre", { class: "logs", id: "logs", tabindex: "0", "aria-label": "Run log" });
    const mode = h("p", { class: "muted", id: "follow-mode" });
    const outputs = h("section", { id: "outputs", "aria-labelledby": "outputs-title" });
    fill(main,
      h("p", {}, h("a", { href: "#/runs", text: "← All runs" })),
      title,
      summary,
      h("p", {}, cancel),
      h("h2", { text: "Log" }),
      mode,
      logs,
      outputs
    );

    function renderSummary() {
      fill(summary,
        definitionList([
          ["Status", statusBadge(run.status)],
          ["Progress", progress(run.progress)],
          ["Workflow", h("a", { href: route("workflows", run.workflow_id), text: run.workflow_id })],
          ["Data selection", h("a", { href: route("data", run.data_selection), text: run.data_selection })],
          ["Created", formatTime(run.created_time)],
          ["Started", formatTime(run.start_time)],
          ["Ended", formatTime(run.end_time)],
          run.reason ? ["Reason", run.reason] : null,
          ["Parameters", h("code", { text: JSON.stringify(run.params || {}) })],
        ].filter(Boolean))
      );
      summary.dataset.status = run.status;
      cancel.hidden = api.isTerminal(run.status);
    }
    renderSummary();

    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await api.request("POST", "/runs/" + encodeURIComponent(runId) + "/cancel", { signal });
        flash("Cancel requested for run " + runId + ".", "info");
      } catch (e) {
        if (e.name !== "AbortError") flash("Cancel failed: " + e.message);
      } finally {
        cancel.disabled = false;
      }
    });

    let outputsShown = false;
    const showOutputs = () => {
      if (outputsShown) return;
      outputsShown = true;
      outputsView(outputs, run, "", signal).catch((e) => {
        if (e.name !== "AbortError") outputs.append(scigate.dom.errorBox(e));
      });
    };
    const stickToBottom = () => logs.scrollHeight - logs.scrollTop - logs.clientHeight < 40;
    const how = await api.followRun(
      runId,
      {
        onState: (next) => {
          run = next;
          renderSummary();
          if (api.isTerminal(run.status)) showOutputs();
        },
        onLog: (text) => {
          const follow = stickToBottom();
          logs.append(text);
          if (follow) logs.scrollTop = logs.scrollHeight;
        },
        onMode: (m) => (mode.textContent = m === "polling" ? "Following by polling (this server has no run event stream)." : ""),
      },
      signal
    );
    if (how === "end") {
      logs.dataset.complete = "true";
      showOutputs();
    }
  }

  // ---- outputs ----
  // The run's outputs below `folder` ("" or "a/b/"): folders, files with download links,
  // viewers and their metadata (.cfg sidecars), editable.
  async function outputsView(container, run, folder, signal) {
    // output_url is the run's folder, "{public_url}/output-data/{user}/{run}/", encoded.
    const prefix = new URL(run.output_url, window.location.href).pathname + api.encodePath(folder);
    let listing;
    try {
      listing = await api.get(prefix, { signal });
    } catch (e) {
      // A run that staged nothing has no output folder at all.
      if (e.status !== 404 || folder) throw e;
      listing = { folders: [], files: [] };
    }
    const rows = [];
    for (const f of listing.folders) {
      rows.push([h("a", { href: route("runs", run.run_id, "files", folder + f.name + "/"), text: f.name + "/" }), "", "", "", ""]);
    }
    for (const f of listing.files) {
      const rel = folder + f.name;
      rows.push([
        h("a", { href: route("runs", run.run_id, "view", rel), class: "file-name", text: f.name }),
        formatBytes(f.size),
        formatTime(f.last_modified),
        metadataCell(f, prefix, signal),
        h("a", { href: safeHref(f.href), download: f.name, "aria-label": "Download " + f.name, text: "Download" }),
      ]);
    }
    fill(container,
      h("h2", { id: "outputs-title", text: "Outputs" + (folder ? ": " + folder : "") }),
      folder ? h("p", {}, h("a", { href: route("runs", run.run_id), text: "← Run " + run.run_id })) : null,
      rows.length ? table(["Name", "Size", "Modified", "Metadata", ""], rows, "Output files", true) : h("p", { class: "empty", text: "No outputs." })
    );
    container.dataset.loaded = "true";
  }

  // A file's properties, and an editor that writes them back with PUT /output-data/...
  function metadataCell(file, folderUrl, signal) {
    const cell = h("div", { class: "metadata" });
    let props = Object.assign({}, file.properties || {});
    const show = () => {
      const entries = Object.entries(props);
      fill(cell,
        entries.length ? definitionList(entries.map(([k, v]) => [k, String(v)])) : h("span", { class: "muted", text: "none" }),
        h("button", { type: "button", class: "small", "aria-label": "Edit metadata of " + file.name, onclick: edit, text: "Edit" })
      );
    };
    const row = (k, v) => {
      const key = h("input", { type: "text", value: k, "aria-label": "Property name", class: "prop-key" });
      const value = h("input", { type: "text", value: v, "aria-label": "Property value", class: "prop-value" });
      const line = h("div", { class: "prop-row" }, key, value, h("button", { type: "button", class: "small", "aria-label": "Remove property", text: "×", onclick: () => line.remove() }));
      return line;
    };
    function edit() {
      const rows = h("div", { class: "prop-rows" }, Object.entries(props).map(([k, v]) => row(k, String(v))));
      const error = h("p", { class: "field-error", role: "alert" });
      const form = h(
        "form",
        { class: "prop-editor", "aria-label": "Metadata of " + file.name },
        rows,
        h("button", { type: "button", class: "small", text: "Add property", onclick: () => rows.append(row("", "")) }),
        error,
        h("button", { type: "submit", class: "small primary", text: "Save" }),
        h("button", { type: "button", class: "small", text: "Cancel", onclick: show })
      );
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const next = {};
        for (const line of rows.children) {
          const k = line.querySelector(".prop-key").value.trim();
          if (k) next[k] = line.querySelector(".prop-value").value;
        }
        try {
          await api.request("PUT", folderUrl, { body: { files: { [file.name]: { properties: next } } }, signal });
          props = next;
          flash("Metadata of " + file.name + " saved.", "info");
          show();
        } catch (err) {
          if (err.name !== "AbortError") error.textContent = err.message;
        }
      });
      fill(cell, form);
      if (!rows.children.length) rows.append(row("", ""));
      rows.querySelector("input").focus();
    }
    show();
    return cell;
  }

  async function runFiles(main, params, signal) {
    const run = await api.get("/runs/" + encodeURIComponent(params[0]), { signal });
    const section = h("section", { id: "outputs" });
    fill(main, heading("Outputs of run " + run.run_id), section);
    await outputsView(section, run, params[1] || "", signal);
  }

  // ---- viewing a file ----
  // The file's entry (href, size, properties) from its folder's listing.
  async function fileEntry(listUrl, path, signal) {
    const slash = path.lastIndexOf("/");
    const folder = path.slice(0, slash + 1);
    const name = path.slice(slash + 1);
    const listing = await api.get(listUrl + api.encodePath(folder), { signal });
    const file = listing.files.find((f) => f.name === name);
    if (!file) throw new api.ApiError(404, "not_found", "No such file: " + path);
    return file;
  }

  async function viewFile(main, source, back, listUrl, signal) {
    const file = await fileEntry(listUrl, source.path, signal);
    file.preview = listUrl + api.encodePath(source.path) + "?preview";
    const props = Object.entries(file.properties || {});
    fill(main,
      h("p", {}, back),
      heading(source.path),
      h(
        "p",
        { class: "file-meta" },
        formatBytes(file.size) + " · " + formatTime(file.last_modified) + " · ",
        h("a", { href: safeHref(file.href), download: file.name, text: "Download" })
      ),
      props.length ? definitionList(props.map(([k, v]) => [k, String(v)])) : null
    );
    const holder = h("div", { class: "muted", text: "Loading viewer…" });
    main.append(holder);
    const viewer = await scigate.viewers.viewerFor(file, source, signal);
    if (signal.aborted) return;
    holder.replaceWith(viewer);
    if (viewer.start) {
      viewer.start();
      signal.addEventListener("abort", () => viewer.stop(), { once: true });
    }
  }

  async function runView(main, params, signal) {
    const [runId, path] = params;
    const run = await api.get("/runs/" + encodeURIComponent(runId), { signal });
    const root = new URL(run.output_url, window.location.href).pathname;
    const back = h("a", { href: route("runs", runId), text: "← Run " + runId });
    await viewFile(main, { run: runId, path }, back, root, signal);
  }

  async function dataView(main, params, signal) {
    const [id, path] = params;
    const back = h("a", { href: route("data", id, path.slice(0, path.lastIndexOf("/") + 1)), text: "← " + id });
    await viewFile(main, { data_selection: id, path }, back, "/data-selections/" + encodeURIComponent(id) + "/files/", signal);
  }

  // ---- data selections ----
  async function dataList(main, params, signal) {
    const { data_selections: selections } = await api.get("/data-selections", { signal });
    fill(main,
      heading("Data selections"),
      selections.length
        ? h(
            "ul",
            { class: "cards" },
            selections.map((s) =>
              h(
                "li",
                { class: "card" },
                h("h2", {}, h("a", { href: route("data", s.id), text: s.id })),
                h("p", { text: s.description || "" }),
                h("p", { class: "muted" }, "Workflows: ", (s.workflows || []).map((w, i) => [i ? ", " : "", h("a", { href: route("workflows", w) + "?data=" + encodeURIComponent(s.id), text: w })]))
              )
            )
          )
        : h("p", { class: "empty", text: "No data selections are open to you." })
    );
  }

  async function dataBrowse(main, params, signal) {
    const [id, folder = ""] = params;
    const listing = await api.get("/data-selections/" + encodeURIComponent(id) + "/files/" + api.encodePath(folder), { signal });
    const rows = [];
    if (folder) {
      const up = folder.replace(/[^/]*\/$/, "");
      rows.push([h("a", { href: route("data", id, up), text: "../" }), "", "", ""]);
    }
    for (const f of listing.folders) rows.push([h("a", { href: route("data", id, folder + f.name + "/"), text: f.name + "/" }), "", "", ""]);
    for (const f of listing.files) {
      rows.push([
        h("a", { href: route("data", id, "view", folder + f.name), class: "file-name", text: f.name }),
        formatBytes(f.size),
        formatTime(f.last_modified),
        h("a", { href: safeHref(f.href), download: f.name, "aria-label": "Download " + f.name, text: "Download" }),
      ]);
    }
    fill(main,
      h("p", {}, h("a", { href: "#/data", text: "← Data selections" })),
      heading(id + (folder ? " / " + folder : "")),
      rows.length ? table(["Name", "Size", "Modified", ""], rows, "Files of " + id, true) : h("p", { class: "empty", text: "This folder is empty." })
    );
  }

  // ---- workflows ----
  async function workflowsList(main, params, signal) {
    const { workflows } = await api.get("/workflows", { signal });
    fill(main,
      heading("Workflows"),
      workflows.length
        ? h("ul", { class: "cards" }, workflows.map((w) => h("li", { class: "card" }, h("h2", {}, h("a", { href: route("workflows", w.id), text: w.id })), h("p", { text: w.description || "" }))))
        : h("p", { class: "empty", text: "No workflows are open to you." })
    );
  }

  // One form control per parameter of the JSON Schema.
  function paramField(name, schema, required) {
    const id = "param-" + name;
    const describedBy = [];
    let control;
    const def = schema.default === null ? undefined : schema.default;
    if (Array.isArray(schema.enum)) {
      control = h("select", { id, name }, required || def !== undefined ? null : h("option", { value: "", text: "—" }), schema.enum.map((v) => h("option", { value: JSON.stringify(v), selected: v === def, text: String(v) })));
      control.dataset.kind = "enum";
    } else if (schema.type === "boolean") {
      control = h("input", { id, name, type: "checkbox", checked: def === true });
      control.dataset.kind = "boolean";
    } else if (schema.type === "integer" || schema.type === "number") {
      control = h("input", { id, name, type: "number", inputmode: schema.type === "integer" ? "numeric" : "decimal", step: schema.type === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum, value: def !== undefined ? String(def) : "" });
      control.dataset.kind = schema.type;
    } else {
      control = h("input", { id, name, type: "text", value: def !== undefined ? String(def) : "" });
      control.dataset.kind = "string";
    }
    if (required) control.setAttribute("aria-required", "true");
    const limits = [];
    if (schema.minimum !== undefined) limits.push("min " + schema.minimum);
    if (schema.maximum !== undefined) limits.push("max " + schema.maximum);
    if (schema.minLength !== undefined) limits.push("at least " + schema.minLength + " characters");
    if (schema.maxLength !== undefined) limits.push("at most " + schema.maxLength + " characters");
    if (def !== undefined) limits.push("default " + JSON.stringify(def));
    const help = h("p", { class: "muted", id: id + "-help", text: [schema.description, limits.join(", ")].filter(Boolean).join(" — ") });
    describedBy.push(help.id);
    const error = h("p", { class: "field-error", id: id + "-error", role: "alert" });
    describedBy.push(error.id);
    control.setAttribute("aria-describedby", describedBy.join(" "));
    const label = h("label", { for: id }, h("span", { text: name }), required ? h("span", { class: "required", text: " (required)" }) : null, h("span", { class: "muted", text: " " + [].concat(schema.type || (schema.enum ? "choice" : "")).join(" or ") }));
    return h("div", { class: "field", dataset: { param: name } }, label, control, help, error);
  }

  // The value a control holds, as the schema's type; a number field that holds no number
  // is sent as typed, so that the server's 400 names it.
  function paramValue(control) {
    switch (control.dataset.kind) {
      case "boolean":
        return control.checked;
      case "enum":
        return control.value === "" ? undefined : JSON.parse(control.value);
      case "integer":
      case "number": {
        if (control.value === "" && control.validity.badInput) return "(not a number)";
        if (control.value === "") return undefined;
        const n = Number(control.value);
        return isFinite(n) ? n : control.value;
      }
      default:
        return control.value === "" ? undefined : control.value;
    }
  }

  async function workflowForm(main, params, signal, query) {
    const wf = await api.get("/workflows/" + encodeURIComponent(params[0]), { signal });
    const schema = wf.parameters || {};
    const required = new Set(schema.required || []);
    const selections = wf.data_selections || [];
    const wanted = query.get("data");
    const selectionField = h(
      "div",
      { class: "field", dataset: { param: "in_data_selection" } },
      h("label", { for: "param-in_data_selection", text: "Data selection" }),
      h("select", { id: "param-in_data_selection", name: "in_data_selection", "aria-describedby": "param-in_data_selection-error" }, selections.map((s) => h("option", { value: s, selected: s === wanted, text: s }))),
      h("p", { class: "field-error", id: "param-in_data_selection-error", role: "alert" })
    );
    const fields = Object.entries(schema.properties || {}).map(([name, s]) => paramField(name, s, required.has(name)));
    const formError = h("p", { class: "field-error", id: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: "primary", id: "start-run", text: "Start run" });
    // Native validation is off: the server checks every value, and its 400 is shown next
    // to the field it names.
    const form = h("form", { class: "card run-form", novalidate: true, "aria-labelledby": "wf-title" }, selectionField, fields, formError, submit);
    fill(main,
      h("p", {}, h("a", { href: "#/workflows", text: "← Workflows" })),
      h("h1", { id: "wf-title", tabindex: "-1", text: wf.id }),
      h("p", { text: wf.description || "" }),
      selections.length ? form : h("p", { class: "empty", text: "This workflow runs on no data selection open to you." })
    );
    // One key per filled-in form: a double click, a retried request or a second submit
    // of the same values starts one run (the server answers the same run again).
    let key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    form.addEventListener("input", () => {
      key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
      for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
      const body = { in_data_selection: form.elements.in_data_selection.value, params: {} };
      for (const field of fields) {
        const control = field.querySelector("input, select");
        const value = paramValue(control);
        if (value !== undefined) body.params[control.name] = value;
      }
      submit.disabled = true;
      try {
        const run = await api.request("POST", "/workflows/" + encodeURIComponent(wf.id) + "/runs", { body, headers: { "Idempotency-Key": key }, signal });
        window.location.hash = route("runs", run.run_id);
      } catch (err) {
        if (err.name === "AbortError") return;
        const m = /parameter '([^']+)'/.exec(err.message) || (/in_data_selection|data selection/i.test(err.message) ? [null, "in_data_selection"] : null);
        const field = m && form.querySelector('[data-param="' + CSS.escape(m[1]) + '"]');
        if (field) {
          field.querySelector(".field-error").textContent = err.message;
          const control = field.querySelector("input, select");
          control.setAttribute("aria-invalid", "true");
          control.focus();
        } else {
          formError.textContent = err.message + (err.status ? " (HTTP " + err.status + ")" : "");
        }
      } finally {
        submit.disabled = false;
      }
    });
  }

  scigate.views = { signIn, runsList, runDetail, runFiles, runView, dataList, dataBrowse, dataView, workflowsList, workflowForm };
})();
