// The map viewer of GET /cog/{tileMatrixSetId}/map.html (src/api/viewer.cc writes the
// page). The page has no inline script (its Content-Security-Policy allows scripts from
// its origin only): the URLs come from data- attributes of #map, and every text shown
// goes through textContent, never innerHTML.
(function () {
  "use strict";

  const container = document.getElementById("map");
  const status = document.getElementById("status");
  const zoomLabel = document.getElementById("zoom");
  const tilejsonUrl = container.dataset.tilejsonUrl;
  const pointTemplate = container.dataset.pointUrl;

  function showStatus(text) {
    status.textContent = text;
    status.hidden = false;
  }

  // Error bodies are {"error": {"message": ...}}; anything else falls back to the status.
  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return response.status + ": " + body.error.message;
    } catch (e) {
      // not JSON
    }
    return response.status + " " + response.statusText;
  }

  // Only the path's {lon} and {lat} are replaced: the query stays as the server wrote it.
  function pointUrl(lngLat) {
    const q = pointTemplate.indexOf("?");
    const path = q < 0 ? pointTemplate : pointTemplate.slice(0, q);
    const query = q < 0 ? "" : pointTemplate.slice(q);
    return path.replace(/\{lon\}|%7Blon%7D/i, lngLat.lng.toFixed(7)).replace(/\{lat\}|%7Blat%7D/i, lngLat.lat.toFixed(7)) + query;
  }

  // TiTiler-style tile URLs carry their size (tilesize=); MapLibre must be told it.
  function tileSize(tilejson) {
    try {
      const size = Number(new URL(tilejson.tiles[0], window.location.href).searchParams.get("tilesize"));
      if (size > 0) return size;
    } catch (e) {
      // no usable URL: the default below
    }
    return 512;
  }

  // [west, south, east, north]; a layer across the antimeridian has west > east.
  function lngLatBounds(b) {
    return [[b[0], b[1]], [b[2] < b[0] ? b[2] + 360 : b[2], b[3]]];
  }

  function valuesTable(point) {
    const table = document.createElement("table");
    table.className = "scigate-values";
    const values = point.values || [];
    const names = point.band_names || values.map((_, i) => "b" + (i + 1));
    values.forEach((value, i) => {
      const row = table.insertRow();
      row.insertCell().textContent = names[i];
      row.insertCell().textContent = value === null ? "nodata" : String(value);
    });
    return table;
  }

  async function showPoint(map, lngLat) {
    const node = document.createElement("div");
    const where = document.createElement("div");
    where.className = "scigate-where";
    where.textContent = lngLat.lng.toFixed(5) + ", " + lngLat.lat.toFixed(5);
    node.appendChild(where);
    const popup = new maplibregl.Popup({ maxWidth: "320px" }).setLngLat(lngLat).setDOMContent(node).addTo(map);
    try {
      const response = await fetch(pointUrl(lngLat), { credentials: "same-origin" });
      if (!response.ok) {
        const message = document.createElement("div");
        message.textContent = await errorText(response);
        node.appendChild(message);
      } else {
        node.appendChild(valuesTable(await response.json()));
      }
    } catch (e) {
      const message = document.createElement("div");
      message.textContent = "point request failed: " + e.message;
      node.appendChild(message);
    }
    popup.setDOMContent(node);
  }

  function addLayer(map, tilejson) {
    const source = { type: "raster", tiles: tilejson.tiles, tileSize: tileSize(tilejson) };
    if (tilejson.minzoom !== undefined) source.minzoom = tilejson.minzoom;
    if (tilejson.maxzoom !== undefined) source.maxzoom = tilejson.maxzoom;
    // Bounds keep MapLibre from asking for tiles outside the data (404s).
    if (tilejson.bounds) source.bounds = tilejson.bounds;
    if (tilejson.attribution) source.attribution = tilejson.attribution;
    map.addSource("raster", source);
    map.addLayer({ id: "raster", type: "raster", source: "raster" });
    if (tilejson.bounds) map.fitBounds(lngLatBounds(tilejson.bounds), { padding: 20, animate: false });
  }

  async function start() {
    const map = new maplibregl.Map({
      container: container,
      // No base map: nothing is loaded from anywhere but this server.
      style: { version: 8, sources: {}, layers: [{ id: "background", type: "background", paint: { "background-color": "#e6e6e6" } }] },
      center: [0, 0],
      zoom: 1,
    });
    window.scigateViewer = { map: map };
    map.addControl(new maplibregl.NavigationControl(), "top-right");
    map.addControl(new maplibregl.ScaleControl(), "bottom-left");
    const updateZoom = () => (zoomLabel.textContent = "zoom " + map.getZoom().toFixed(1));
    map.on("zoom", updateZoom);
    updateZoom();
    // Failed tiles are reported on the page instead of MapLibre's console default.
    map.on("error", (e) => showStatus((e.error && e.error.message) || "map error"));
    map.on("click", (e) => showPoint(map, e.lngLat.wrap()));
    // Listened for before anything is awaited, so that the event cannot be missed.
    const styleLoaded = new Promise((resolve) => map.once("load", resolve));

    const response = await fetch(tilejsonUrl, { credentials: "same-origin" });
    if (!response.ok) {
      showStatus("TileJSON: " + (await errorText(response)));
      return;
    }
    const tilejson = await response.json();
    await styleLoaded;
    addLayer(map, tilejson);
  }

  start().catch((e) => showStatus("viewer failed: " + e.message));
})();
