/* Zhanjiang Port Twin cockpit: the live 3D port and the KPI tiles, fed straight from the engine's bus.
 *
 * The browser subscribes to the engine's /stream (docs/protocol.md): a snapshot, then deltas. It keeps
 * the vessel table, redraws only the live layers (the fixed port's layers come once, built in Python by
 * layers/), never touches the camera on updates, and shows the engine's KPI values as they arrive: it
 * computes no KPI itself. Everything is served by the cockpit server: no CDN, no map tiles.
 */
(function () {
  "use strict";

  const state = {
    config: null, deck: null, staticLayers: [], liveSpecs: {},
    vessels: new Map(), columns: null, kpis: {}, alerts: [], feeds: {},
    seq: -1, lastMessageMs: 0, connected: false, everConnected: false, reconnects: 0,
    messages: 0, lang: "zh", tour: false, tourIndex: 0, tourTimer: null, dirty: false,
    bannerUntil: 0,
    // measurements read by bench/bench_cockpit.py: ms from a message's arrival to the frame showing it
    msgAt: 0, pendingSince: 0, updateMs: [], firstFullRenderMs: null,
  };
  window.__twin = state; // read by the browser tests

  const $ = (id) => document.getElementById(id);
  const text = (key) => (state.config.texts[state.lang] || {})[key] || key;

  // layer specs (pydeck JSON from layers/) become deck.gl layers in deckspec.js
  const convertLayer = (spec, data) => window.twinDeckSpec.convertLayer(spec, data);
  const loadImages = (spec) => window.twinDeckSpec.loadImages(spec);

  // ---- vessel hulls: the same footprint as layers/vessels.py hull_polygons -----------------
  const M_PER_DEG_LAT = 110574.0;
  function hull(lon, lat, headingDeg, lengthM, beamM) {
    const h = ((headingDeg == null || isNaN(headingDeg)) ? 0 : headingDeg) * Math.PI / 180;
    const hl = lengthM / 2, hb = beamM / 2, shoulder = hl - Math.min(beamM, lengthM / 3);
    const xs = [-hl, shoulder, hl, shoulder, -hl, -hl];
    const ys = [-hb, -hb, 0, hb, hb, -hb];
    const s = Math.sin(h), c = Math.cos(h), k = M_PER_DEG_LAT * Math.cos(lat * Math.PI / 180);
    return xs.map((x, i) => {
      const east = x * s + ys[i] * c, north = x * c - ys[i] * s;
      return [lon + east / k, lat + north / M_PER_DEG_LAT];
    });
  }
  window.__twinHull = hull;

  function vesselRows() {
    const cfg = state.config;
    const alertBy = new Map();
    for (const a of state.alerts) {
      if (a.mmsi != null && a.state !== "cleared") alertBy.set(a.mmsi, a.priority);
    }
    const rows = [];
    for (const v of state.vessels.values()) {
      if (v.lon == null || v.lat == null) continue;
      const length = Math.max(5, v.length_m || 60), beam = Math.max(2, v.beam_m || 12);
      const heading = v.heading_deg != null ? v.heading_deg : (v.cog_deg != null ? v.cog_deg : 0);
      const prio = alertBy.get(v.mmsi);
      const fill = prio ? cfg.priority_colours[prio] : (cfg.phase_colours[v.phase] || cfg.phase_default);
      rows.push({
        mmsi: v.mmsi, name: v.name || String(v.mmsi), position: [v.lon, v.lat],
        hull: hull(v.lon, v.lat, heading, length, beam), radius: length / 2,
        height: Math.max(6, beam * 0.6), fill: v.dark ? [120, 120, 120, 160] : fill,
        tooltip: `${v.name || ""} MMSI ${v.mmsi} · ${v.ship_class || ""} · ${(v.sog_kn || 0).toFixed(1)} kn · ${v.phase || ""}${v.dark ? " · DARK" : ""}`,
      });
    }
    return rows;
  }

  function alertRows(now) {
    const rows = [];
    for (const a of state.alerts) {
      if (a.lon == null || a.lat == null || a.state === "cleared") continue;
      rows.push({ id: a.id, position: [a.lon, a.lat], fill: state.config.priority_colours[a.priority] || [255, 200, 0, 255],
                  tooltip: `${a.text_zh || ""} / ${a.text_en || ""}` });
    }
    return rows;
  }

  function redraw() {
    if (!state.deck) return;
    const rows = vesselRows();
    const pulse = 1 + 0.45 * Math.sin(Date.now() / 250);
    // a 3840-px wall needs markers as visible from across the room as a 1920-px one
    const scale = Math.max(1, window.innerWidth / 1920);
    const markerSpec = state.liveSpecs["vessel-markers"];
    const markers = convertLayer(markerSpec, rows).clone({
      radiusMinPixels: (markerSpec.radiusMinPixels || 3) * scale,
      radiusMaxPixels: (markerSpec.radiusMaxPixels || 10) * scale,
      lineWidthMinPixels: (markerSpec.lineWidthMinPixels || 1) * scale,
    });
    const live = [markers, convertLayer(state.liveSpecs["vessels"], rows)];
    const alertSpec = state.liveSpecs["alerts"];
    if (alertSpec) {
      const layer = convertLayer(alertSpec, alertRows());
      live.push(layer.clone({ getRadius: 400 * pulse, updateTriggers: { getRadius: pulse } }));
    }
    state.deck.setProps({ layers: [...state.staticLayers, ...live] });
    state.dirty = false;
    state.drawnSince = state.pendingSince;
    state.pendingSince = 0;
  }

  // ---- KPI tiles, alert ticker, status ---------------------------------------------------
  const LOCAL_TZ_OFFSET_H = 8; // Asia/Shanghai, no DST
  function localTime(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    if (isNaN(d)) return "—";
    const l = new Date(d.getTime() + LOCAL_TZ_OFFSET_H * 3600e3);
    return l.toISOString().slice(11, 19);
  }

  function formatValue(kpi) {
    const v = kpi.value;
    if (v == null || (typeof v === "number" && isNaN(v))) return { value: "—", unit: "" };
    let unit = kpi.unit || "";
    let value = v;
    if (unit === "t" && state.lang === "zh") { value = v / 10000; unit = "万吨"; }  // Chinese port statistics
    else if (state.config.texts[state.lang]["unit_" + unit]) unit = state.config.texts[state.lang]["unit_" + unit];
    let shown;
    if (typeof value !== "number") shown = String(value);
    else if (Math.abs(value) >= 100) shown = Math.round(value).toLocaleString("en-US");
    else if (Number.isInteger(value)) shown = String(value);
    else shown = value.toFixed(1);
    return { value: shown, unit: unit };
  }

  function sparkline(trend) {
    const pts = (trend || []).filter((x) => typeof x === "number");
    if (pts.length < 2) return "";
    const lo = Math.min(...pts), hi = Math.max(...pts), span = hi - lo || 1;
    const path = pts.map((p, i) => `${(i / (pts.length - 1) * 100).toFixed(1)},${(28 - (p - lo) / span * 26).toFixed(1)}`).join(" ");
    return `<svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none"><polyline points="${path}"/></svg>`;
  }

  // Alert texts carry AIS ship names (anyone with a transmitter chooses them): always escaped.
  const escapeAttr = (v) => String(v).replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;")
    .replace(/>/g, "&gt;").replace(/'/g, "&#39;");
  function renderTiles() {
    const box = $("kpi-tiles");
    if (!box) return;
    const silent = (state.everConnected && !state.connected) || state.silent;
    const html = [];
    for (const [id, kpi] of Object.entries(state.kpis)) {
      const { value, unit } = formatValue(kpi);
      const stale = kpi.stale || silent;
      const label = escapeAttr(state.lang === "zh" ? (kpi.label_zh || id) : (kpi.label_en || id));
      html.push(`<div class="tile${stale ? " stale" : ""}" data-kpi="${id}">
        <div class="tile-label">${label}</div>
        <div class="tile-value"><span class="v">${value}</span> <span class="u">${unit}</span></div>
        ${sparkline(kpi.trend)}
        <div class="tile-foot">${stale ? `<span class="stale-tag">${text("stale")}</span> ` : ""}${text("updated")} ${localTime(kpi.updated_utc)}</div>
      </div>`);
    }
    box.innerHTML = html.join("");
  }

  const PRIORITY_ORDER = ["emergency_alarm", "alarm", "warning", "caution"];
  function renderTicker() {
    const box = $("alert-ticker");
    if (!box) return;
    const open = state.alerts.filter((a) => a.state !== "cleared")
      .sort((a, b) => PRIORITY_ORDER.indexOf(a.priority) - PRIORITY_ORDER.indexOf(b.priority));
    if (!open.length) { box.innerHTML = `<span class="ticker-empty">${text("no_alerts")}</span>`; return; }
    // data-alert-id: the browser test finds the item of an alert acknowledged at the ops desk
    box.innerHTML = open.map((a) => `<span class="ticker-item prio-${escapeAttr(a.priority)}${a.state === "acknowledged" ? " acked" : ""}" data-alert-id="${escapeAttr(a.id)}">
      <b>${text("prio_" + a.priority)}</b> ${escapeAttr(state.lang === "zh" ? (a.text_zh || a.rule) : (a.text_en || a.rule))}</span>`).join("");
  }

  function renderStatus() {
    const box = $("conn-status");
    if (!box) return;
    let cls = "ok", msg = text("connected");
    if (!state.everConnected) { cls = "wait"; msg = text("connecting"); }
    else if (!state.connected) { cls = "down"; msg = text("reconnecting"); }
    else if (state.silent) { cls = "down"; msg = text("silent"); }
    else if (Date.now() < state.bannerUntil) { cls = "ok"; msg = text("reconnected"); }
    box.className = "conn " + cls;
    box.textContent = msg;
  }

  function renderAll() { renderTiles(); renderTicker(); renderStatus(); }

  // ---- the bus ------------------------------------------------------------------------------
  function applyVessels(part) {
    if (!part) return;
    const cols = part.columns || state.columns;
    if (part.columns) state.columns = part.columns;
    for (const row of part.rows || []) {
      const v = {};
      cols.forEach((c, i) => { v[c] = row[i]; });
      state.vessels.set(v.mmsi, v);
    }
    for (const mmsi of part.removed || []) state.vessels.delete(mmsi);
  }

  function mergeAlerts(list, replace) {
    if (replace) { state.alerts = list || []; return; }
    const byId = new Map(state.alerts.map((a) => [a.id, a]));
    for (const a of list || []) byId.set(a.id, { ...(byId.get(a.id) || {}), ...a });
    state.alerts = [...byId.values()];
  }

  function onMessage(event) {
    const arrived = performance.now();
    const msg = JSON.parse(event.data);
    if (!state.pendingSince) state.pendingSince = arrived;
    state.messages += 1;
    state.lastMessageMs = Date.now();
    state.silent = false;
    if (msg.type === "snapshot") {
      state.vessels.clear();
      state.columns = null;
      applyVessels(msg.vessels);
      state.kpis = msg.kpis || {};
      mergeAlerts(msg.alerts, true);
      state.feeds = msg.feeds || {};
    } else if (msg.type === "delta") {
      if (state.seq >= 0 && msg.seq !== state.seq + 1) { ws.close(); return; } // gap: reconnect for a snapshot
      applyVessels(msg.vessels);
      for (const [id, kpi] of Object.entries(msg.kpis || {})) state.kpis[id] = { ...(state.kpis[id] || {}), ...kpi };
      mergeAlerts(msg.alerts, false);
      Object.assign(state.feeds, msg.feeds || {});
    } else {
      return;
    }
    state.seq = msg.seq;
    state.ts = msg.ts_utc;
    state.dirty = true;
    renderTiles(); renderTicker();
  }

  let ws = null;
  function connect() {
    ws = new WebSocket(state.config.bus_url);
    ws.onopen = () => {
      if (state.everConnected) { state.reconnects += 1; state.bannerUntil = Date.now() + 8000; }
      state.connected = true; state.everConnected = true; state.seq = -1; renderStatus();
    };
    ws.onmessage = onMessage;
    ws.onclose = () => {
      const was = state.connected;
      state.connected = false;
      if (was) renderAll();
      setTimeout(connect, 1500);
    };
    ws.onerror = () => { /* onclose follows and reconnects */ };
  }

  // ---- tour, language, clock ---------------------------------------------------------------
  function flyTo(name) {
    const v = state.config.views[name];
    if (!v || !state.deck) return;
    state.deck.setProps({ initialViewState: { ...v, transitionDuration: 4000,
      transitionInterpolator: new deck.FlyToInterpolator() } });
    const label = $("view-label");
    if (label) label.textContent = text("view_" + name);
  }

  function setTour(on) {
    state.tour = on;
    clearInterval(state.tourTimer);
    const button = $("tour-button");
    if (button) button.textContent = text(on ? "tour_on" : "tour_off");
    if (!on) return;
    const names = Object.keys(state.config.views);
    state.tourTimer = setInterval(() => {
      state.tourIndex = (state.tourIndex + 1) % names.length;
      flyTo(names[state.tourIndex]);
    }, state.config.tour_period_s * 1000);
  }

  function setLang(lang) {
    state.lang = lang;
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = text(el.dataset.i18n);
    const button = $("tour-button");
    if (button) button.textContent = text(state.tour ? "tour_on" : "tour_off");
    renderAll();
  }
  window.__twinSetLang = setLang;

  function tickClock() {
    const box = $("clock");
    if (box) {
      // the twin's own clock (simulated, replayed or real): what every figure on screen refers to
      const base = state.ts ? new Date(state.ts) : new Date();
      const l = new Date(base.getTime() + LOCAL_TZ_OFFSET_H * 3600e3).toISOString();
      box.textContent = `${text("twin_time")} ${l.slice(0, 10)} ${l.slice(11, 19)} UTC+8`;
    }
    // a connected but silent bus (engine hung, feed stopped upstream): every tile goes stale
    const silent = state.everConnected && state.connected &&
      Date.now() - state.lastMessageMs > state.config.stale_after_s * 1000;
    if (silent !== state.silent) { state.silent = silent; renderAll(); }
    renderStatus();
  }

  // ---- start ------------------------------------------------------------------------------
  async function start() {
    const el = $("twin-map");
    if (!el || typeof deck === "undefined") { setTimeout(start, 100); return; }
    const isKiosk = location.pathname.replace(/\/$/, "").endsWith("/kiosk");
    if (isKiosk) $("cockpit").classList.add("kiosk");
    const kiosk = isKiosk ? "?kiosk=1" : "";
    const [config, spec] = await Promise.all([
      fetch("/api/cockpit-config.json" + kiosk).then((r) => r.json()),
      fetch("/api/port-spec.json").then((r) => r.json()),
    ]);
    state.config = config;
    state.lang = config.lang;
    for (const s of config.live_layers) state.liveSpecs[s.id] = s;
    await Promise.all(spec.layers.map(loadImages));
    state.staticLayers = spec.layers.map((s) => convertLayer(s));
    state.deck = new deck.Deck({
      parent: el, initialViewState: spec.initialViewState, controller: true,
      style: { background: config.background },
      getTooltip: ({ object }) => object && object.tooltip ? { text: object.tooltip } : null,
      layers: state.staticLayers,
      onAfterRender: () => {
        if (!state.drawnSince) return;
        const now = performance.now();
        state.updateMs.push(now - state.drawnSince);
        if (state.updateMs.length > 200) state.updateMs.shift();
        if (state.firstFullRenderMs === null && state.vessels.size) state.firstFullRenderMs = now;
        state.drawnSince = 0;
      },
    });
    setLang(state.lang);
    connect();
    setInterval(() => { if (state.dirty || state.alerts.length) redraw(); }, 250);
    setInterval(tickClock, 1000);
    const tourButton = $("tour-button");
    if (tourButton) tourButton.onclick = () => setTour(!state.tour);
    for (const btn of document.querySelectorAll("[data-view]")) btn.onclick = () => { setTour(false); flyTo(btn.dataset.view); };
    setTour(config.tour);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
