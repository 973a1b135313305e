// The viewers of a file: georeferenced rasters on a MapLibre map (tiles from the tiler's
// tilejson.json, with band / rescale / colormap controls), other images in OpenSeadragon
// (DZI from GET /deepzoom), CSV / JSON / text previews. A file is named by its source:
// {data_selection: ID} or {run: RUN_ID} plus its relative path, as the tiler takes it.
(function () {
  "use strict";
  const scigate = window.scigate;
  const { api } = scigate;
  const { h } = scigate.dom;

  const COLORMAPS = ["viridis", "magma", "inferno", "plasma", "cividis", "turbo", "greys", "rdylgn", "rdbu", "spectral", "blues", "greens", "reds"];
  const PREVIEW_BYTES = 256 * 1024;

  const extension = (path) => (/\.([a-z0-9]+)$/i.exec(path) || ["", ""])[1].toLowerCase();

  function kindOf(path) {
    const ext = extension(path);
    if (ext === "tif" || ext === "tiff") return "tiff";
    if (["png", "jpg", "jpeg", "svs", "gif", "webp"].includes(ext)) return "image";
    if (ext === "csv" || ext === "tsv") return "csv";
    if (ext === "json" || ext === "geojson") return "json";
    if (["txt", "log", "md", "cfg", "ini", "yaml", "yml", "xml", "py", "sh", "tsv"].includes(ext)) return "text";
    return "other";
  }

  // The first PREVIEW_BYTES of a file: its listing URL with ?preview, same origin and with
  // the token (a presigned S3 link is outside the page's connect-src and has no CORS).
  async function head(file, signal) {
    const response = await api.request("GET", file.preview, { raw: true, signal });
    const blob = await response.blob();
    const total = Number(response.headers.get("X-File-Size"));
    return { blob, truncated: total > blob.size };
  }

  async function headText(file, signal) {
    const { blob, truncated } = await head(file, signal);
    return { text: await blob.text(), truncated };
  }

  // RFC 4180 CSV: quoted fields with "" escapes and newlines inside.
  function parseCsv(text, separator) {
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
        else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === separator) row.push(field), (field = "");
      else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        row.push(field), rows.push(row), (row = []), (field = "");
      } else field += c;
    }
    if (field !== "" || row.length) row.push(field), rows.push(row);
    return rows;
  }

  async function csvPreview(file, signal) {
    const { text, truncated } = await headText(file, signal);
    const rows = parseCsv(text, extension(file.name) === "tsv" ? "\t" : ",");
    if (truncated && rows.length > 1) rows.pop(); // the last row may be cut
    const shown = rows.slice(0, 501);
    const header = shown.shift() || [];
    return h(
      "section",
      { class: "preview", "aria-label": "CSV preview" },
      h("p", { class: "muted", text: rows.length - 1 + " rows" + (truncated ? " in the first 256 KiB" : "") + (rows.length > 501 ? ", first 500 shown" : "") }),
      scigate.dom.table(header, shown, "Rows of " + file.name)
    );
  }

  async function jsonPreview(file, signal) {
    const { text, truncated } = await headText(file, signal);
    let shown = text;
    if (!truncated) {
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch (e) {
        shown = text; // not valid JSON: shown as it is
      }
    }
    return h("section", { class: "preview", "aria-label": "JSON preview" }, truncated ? h("p", { class: "muted", text: "First 256 KiB" }) : null, h("pre", { class: "code", text: shown }));
  }

  async function textPreview(file, signal) {
    const { text, truncated } = await headText(file, signal);
    return h("section", { class: "preview", "aria-label": "Text preview" }, truncated ? h("p", { class: "muted", text: "First 256 KiB" }) : null, h("pre", { class: "code", text }));
  }

  // An image as it is (when no deep zoom pyramid can be made of it), through a blob: URL.
  async function plainImage(file, signal, why) {
    if (file.size > PREVIEW_BYTES) return h("p", { class: "muted", text: (why ? why + " " : "") + "Too large for a plain preview: download it instead." });
    const { blob } = await head(file, signal);
    const img = h("img", { class: "plain-image", alt: file.name, src: URL.createObjectURL(blob) });
    return h("section", { class: "preview" }, why ? h("p", { class: "muted", text: why }) : null, img);
  }

  function sourceQuery(source, extra) {
    const q = new URLSearchParams(source.run ? { run: source.run } : { data_selection: source.data_selection });
    q.set("path", source.path);
    for (const [k, v] of extra || []) q.append(k, v);
    return q;
  }

  // ---- OpenSeadragon over DZI ----
  async function deepZoom(source, signal) {
    const links = await api.get("/deepzoom?" + sourceQuery(source), { signal });
    await api.loadAsset(document.body.dataset.osdJs);
    const box = h("div", { class: "osd", id: "osd", tabindex: "0", "aria-label": "Deep zoom view of " + source.path });
    const viewerBox = h("section", { class: "viewer", "aria-label": "Deep zoom viewer" });
    let viewer = null;
    const zoom = (factor) => viewer && (viewer.viewport.zoomBy(factor), viewer.viewport.applyConstraints());
    const controls = h(
      "div",
      { class: "controls" },
      h("button", { type: "button", onclick: () => zoom(1.5), text: "Zoom in" }),
      h("button", { type: "button", onclick: () => zoom(1 / 1.5), text: "Zoom out" }),
      h("button", { type: "button", onclick: () => viewer && viewer.viewport.goHome(), text: "Fit" }),
      h("span", { class: "muted", text: links.width + " × " + links.height + " px" }),
      h("a", { href: scigate.dom.safeHref(links.iiif), text: "IIIF info.json" }),
      h("a", { href: scigate.dom.safeHref(links.dzi), text: "DZI" })
    );
    viewerBox.append(controls, box);
    // Created once the box is in the document (OpenSeadragon measures it).
    viewerBox.start = () => {
      viewer = window.OpenSeadragon({
        element: box,
        tileSources: links.dzi,
        showNavigationControl: false, // real buttons above instead (keyboard, labels)
        loadTilesWithAjax: true, // fetch + blob: within the page's connect-src and img-src
        gestureSettingsMouse: { clickToZoom: false },
        visibilityRatio: 0.5,
      });
      window.scigateOsd = viewer;
      viewer.addHandler("open-failed", (e) => scigate.dom.flash("Deep zoom: " + (e.message || "could not open the image")));
    };
    viewerBox.stop = () => viewer && viewer.destroy();
    return viewerBox;
  }

  // ---- MapLibre over the tiler's TileJSON ----
  function defaultBands(info) {
    const names = (info.band_descriptions || []).map((d) => String((d && d[1]) || "").toLowerCase());
    const find = (name) => names.indexOf(name) + 1;
    if (find("red") && find("green") && find("blue")) return [find("red"), find("green"), find("blue")];
    if ((info.count || 1) >= 3) return [1, 2, 3];
    return [1];
  }

  function bandOptions(info, selected) {
    const descriptions = info.band_descriptions || [];
    return Array.from({ length: info.count || 1 }, (_, i) => {
      const d = descriptions[i] && descriptions[i][1];
      return h("option", { value: String(i + 1), selected: i + 1 === selected, text: "b" + (i + 1) + (d ? " (" + d + ")" : "") });
    });
  }

  async function defaultRescale(source, bands, signal) {
    try {
      const stats = await api.get("/cog/statistics?" + sourceQuery(source, bands.map((b) => ["bidx", b])), { signal });
      let lo = Infinity;
      let hi = -Infinity;
      for (const s of Object.values(stats)) {
        const a = s.percentile_2 !== undefined ? s.percentile_2 : s.min;
        const b = s.percentile_98 !== undefined ? s.percentile_98 : s.max;
        if (typeof a === "number") lo = Math.min(lo, a);
        if (typeof b === "number") hi = Math.max(hi, b);
      }
      if (isFinite(lo) && isFinite(hi) && hi > lo) return [round(lo), round(hi)];
    } catch (e) {
      if (e.name === "AbortError") throw e;
    }
    return null;
  }
  const round = (x) => Number(x.toPrecision(4));

  async function mapViewer(source, info, signal) {
    const data = document.body.dataset;
    await Promise.all([api.loadAsset(data.maplibreCss), api.loadAsset(data.maplibreJs)]);
    const bands = defaultBands(info);
    const rescale = await defaultRescale(source, bands, signal);

    const field = (label, control) => h("label", { class: "field-inline" }, h("span", { text: label }), control);
    const mode = h("select", { id: "map-mode" }, h("option", { value: "rgb", selected: bands.length === 3, text: "RGB" }), h("option", { value: "single", selected: bands.length === 1, text: "Single band" }));
    const r = h("select", { id: "band-r" }, bandOptions(info, bands[0]));
    const g = h("select", { id: "band-g" }, bandOptions(info, bands[1] || 1));
    const b = h("select", { id: "band-b" }, bandOptions(info, bands[2] || 1));
    const lo = h("input", { id: "rescale-min", type: "number", step: "any", value: rescale ? String(rescale[0]) : "" });
    const hi = h("input", { id: "rescale-max", type: "number", step: "any", value: rescale ? String(rescale[1]) : "" });
    const cmap = h("select", { id: "colormap" }, h("option", { value: "", text: "none (gray)" }), COLORMAPS.map((c) => h("option", { value: c, text: c })));
    const apply = h("button", { type: "submit", text: "Apply" });
    const rgbOnly = h("span", { class: "group" }, field("Red", r), field("Green", g), field("Blue", b));
    const singleOnly = field("Colormap", cmap);
    // In single-band mode the red select is the band.
    const syncMode = () => {
      const single = mode.value === "single";
      rgbOnly.querySelector("span").textContent = single ? "Band" : "Red";
      g.parentNode.hidden = b.parentNode.hidden = single;
      singleOnly.hidden = !single;
    };
    mode.addEventListener("change", syncMode);
    const form = h("form", { class: "controls", "aria-label": "Map layer" }, field("Bands", mode), rgbOnly, singleOnly, field("Min", lo), field("Max", hi), apply);
    const box = h("div", { class: "map", id: "map", "aria-label": "Map of " + source.path });
    const status = h("p", { class: "muted", role: "status" });
    const section = h("section", { class: "viewer", "aria-label": "Map viewer" }, form, status, box);
    syncMode();

    function layerQuery() {
      const extra = [["tilesize", "256"]];
      const chosen = mode.value === "single" ? [r.value] : [r.value, g.value, b.value];
      for (const band of chosen) extra.push(["bidx", band]);
      if (lo.value !== "" && hi.value !== "") extra.push(["rescale", lo.value + "," + hi.value]);
      if (mode.value === "single" && cmap.value) extra.push(["colormap_name", cmap.value]);
      return sourceQuery(source, extra);
    }

    let map = null;
    async function showLayer(fit) {
      status.textContent = "Loading layer…";
      let tilejson;
      try {
        tilejson = await api.get("/cog/WebMercatorQuad/tilejson.json?" + layerQuery(), { signal });
      } catch (e) {
        if (e.name === "AbortError") return;
        status.textContent = "Layer: " + e.message;
        return;
      }
      if (map.getLayer("raster")) map.removeLayer("raster");
      if (map.getSource("raster")) map.removeSource("raster");
      const src = { type: "raster", tiles: tilejson.tiles, tileSize: 256, minzoom: tilejson.minzoom, maxzoom: tilejson.maxzoom };
      if (tilejson.bounds) src.bounds = tilejson.bounds;
      map.addSource("raster", src);
      map.addLayer({ id: "raster", type: "raster", source: "raster" });
      if (fit && tilejson.bounds) {
        const bb = tilejson.bounds;
        map.fitBounds([[bb[0], bb[1]], [bb[2] < bb[0] ? bb[2] + 360 : bb[2], bb[3]]], { padding: 20, animate: false });
      }
      status.textContent = "Layer: " + layerQuery().getAll("bidx").map((x) => "b" + x).join(", ") + (lo.value !== "" ? ", rescale " + lo.value + " to " + hi.value : "") + (mode.value === "single" && cmap.value ? ", " + cmap.value : "");
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      showLayer(false);
    });

    section.start = () => {
      map = new window.maplibregl.Map({
        container: box,
        style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#e6e6e6" } }] },
        center: [0, 0],
        zoom: 1,
      });
      window.scigateMap = map;
      map.addControl(new window.maplibregl.NavigationControl(), "top-right");
      map.addControl(new window.maplibregl.ScaleControl(), "bottom-left");
      map.on("error", (e) => (status.textContent = "Map: " + ((e.error && e.error.message) || "error")));
      map.once("load", () => showLayer(true));
    };
    section.stop = () => map && map.remove();
    return section;
  }

  // The viewer or preview for a file: {name, href, size, preview} from its listing (preview:
  // its same-origin ?preview URL), `source` as
  // the tiler names it. Returns a node; a node with start() must be started once it is
  // in the document, stop() when the view goes away.
  async function viewerFor(file, source, signal) {
    const kind = kindOf(file.name);
    if (kind === "csv") return csvPreview(file, signal);
    if (kind === "json") return jsonPreview(file, signal);
    if (kind === "text") return textPreview(file, signal);
    if (kind === "tiff") {
      const info = await api.get("/cog/info?" + sourceQuery(source), { signal });
      if (info.crs && info.bounds) return mapViewer(source, info, signal);
      return deepZoom(source, signal);
    }
    if (kind === "image") {
      try {
        return await deepZoom(source, signal);
      } catch (e) {
        if (e.name === "AbortError" || !(e.status >= 400 && e.status < 500) || e.status === 401) throw e;
        // Not a source deep zoom reads (yet): the image as it is.
        return plainImage(file, signal, "Deep zoom unavailable (" + e.message + "); shown as a plain image.");
      }
    }
    return h("p", { class: "muted", text: "No preview for this kind of file: download it instead." });
  }

  scigate.viewers = { viewerFor, kindOf, parseCsv };
})();
