/* gridsafe live page: every poll_s seconds, /api/live: each unit on duty at its latest fix
 * (green on its plan, red off it, grey when no plan names it), the age of the fix, and the red
 * and orange micro-grids not yet patrolled this shift. Units at one spot are spread apart
 * (spread.js); hovering a unit tells its name, fix and plan, clicking it picks its row. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("gs-live-config").textContent);
  const $ = function (id) { return document.getElementById(id); };
  const RISK = { red: "#e31a1c", orange: "#ff8c00" };
  const STATE = { on: "#2e7d32", off: "#c62828", none: "#616161" };
  function esc(v) {
    return String(v === null || v === undefined ? "" : v).replace(/&/g, "&amp;")
      .replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function fmt(key, params) {
    return cfg.text[key].replace(/%\((\w+)\)s/g, function (_m, n) { return String(params && n in params ? params[n] : ""); });
  }
  const map = L.map("gs-plan-map", { attributionControl: false, maxZoom: 19, minZoom: 10 });
  map.setView([34.78, 113.7], 13);
  const gapLayer = L.layerGroup().addTo(map), unitLayer = L.layerGroup().addTo(map);
  let fitted = false, unitMarkers = [];
  map.on("zoomend", function () { window.gsSpread(map, unitMarkers, 22); });

  function state(u) { return u.on_plan === null ? "none" : (u.on_plan ? "on" : "off"); }
  function stateText(u) {
    if (u.on_plan === null) { return cfg.text.not_planned; }
    return u.on_plan ? cfg.text.on_plan : fmt("off_plan", { m: Math.round(u.off_plan_m) });
  }

  function draw(live) {
    $("gs-live-title").textContent = fmt("title", { shift: live.shift.name });
    $("gs-live-asof").textContent = fmt("as_of", { time: live.as_of.slice(11, 16), s: cfg.poll_s });
    $("gs-live-asof").className = "";
    $("gs-live-plan").innerHTML = live.plan_id
      ? '<a href="/maps/routes?plan=' + live.plan_id + '">' + esc(fmt("plan", { id: live.plan_id })) + "</a>"
      : esc(cfg.text.no_plan);
    $("gs-live-units-title").textContent = fmt("units", { n: live.units.length });
    $("gs-live-units").innerHTML = live.units.map(function (u) {
      const age = u.fix ? fmt("age", { n: Math.round(u.fix.age_s / 60) }) : cfg.text.no_fix;
      return '<tr class="gs-live-unit" data-unit="' + esc(u.name) + '"><td><i style="display:inline-block;width:10px;height:10px;background:' +
        STATE[state(u)] + '"></i> ' + esc(u.name) + (u.registered ? "" : " (" + esc(cfg.text.unregistered) + ")") +
        "</td><td>" + esc(cfg.kinds[u.kind] || u.kind) + "</td><td>" + esc(age) + "</td><td>" + esc(stateText(u)) + "</td></tr>";
    }).join("");
    const gaps = live.unpatrolled.features;
    $("gs-live-gaps-title").textContent = fmt("unpatrolled", { n: gaps.length });
    $("gs-live-gaps").innerHTML = gaps.map(function (f) {
      return "<li>" + esc(f.properties.name || f.properties.code) + "</li>";
    }).join("");
    gapLayer.clearLayers(); unitLayer.clearLayers();
    const gapShapes = L.geoJSON(live.unpatrolled, {
      style: function (f) { return { color: RISK[f.properties.colour] || "#e31a1c", weight: 2, fillOpacity: 0.35 }; },
    }).addTo(gapLayer);
    const points = [];
    unitMarkers = [];
    live.units.forEach(function (u) {
      if (!u.fix) { return; }
      const at = L.latLng(u.fix.lat, u.fix.lon);
      points.push(at);
      const m = L.marker(at, { icon: L.divIcon({
        className: "", iconSize: [20, 20], iconAnchor: [10, 10],
        html: '<div class="gs-live-marker" data-unit="' + esc(u.name) + '" style="background:' + STATE[state(u)] + '"></div>',
      }) }).bindTooltip(esc(u.name + " · " + fmt("age", { n: Math.round(u.fix.age_s / 60) }) + " · " + stateText(u)));
      m.on("click", function () {
        document.querySelectorAll(".gs-live-unit").forEach(function (row) {
          row.classList.toggle("gs-picked", row.dataset.unit === u.name);
          if (row.dataset.unit === u.name) { row.scrollIntoView({ block: "nearest" }); }
        });
      });
      m.home = at;
      m.addTo(unitLayer); unitMarkers.push(m);
    });
    if (!fitted) {
      const b = gapShapes.getBounds();
      points.forEach(function (p) { b.extend(p); });
      if (b.isValid()) { map.fitBounds(b, { padding: [30, 30], animate: false }); fitted = true; }
    }
    window.gsSpread(map, unitMarkers, 22);
  }

  function refresh() {
    fetch("/api/live").then(function (r) {
      return r.json().then(function (j) { if (!r.ok) { throw new Error(j.detail); } return j; });
    }).then(draw).catch(function (e) {
      $("gs-live-asof").textContent = fmt("failed", { error: e.message });
      $("gs-live-asof").className = "gs-error";
    }).finally(function () { setTimeout(refresh, cfg.poll_s * 1000); });
  }
  refresh();
})();
