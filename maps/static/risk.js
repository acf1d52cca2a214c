/* gridsafe four-colour risk map (四色安全图谱): the page's behaviour on top of the folium map.
 *
 * Everything it loads comes from the app: the areas are embedded in the page (or drawn from
 * /tiles/areas/... when there are too many), the detail from /api/risk/{code}, hazards and the
 * incident heat layer from /maps/data/..., the background from /tiles/roads and /tiles/buildings.
 */
(function () {
  "use strict";

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function query(params) {
    const q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      const v = params[k];
      if (Array.isArray(v)) { v.forEach(function (x) { q.append(k, x); }); }
      else if (v !== null && v !== undefined && v !== "") { q.append(k, v); }
    });
    const s = q.toString();
    return s ? "?" + s : "";
  }

  // A message of the page's language (cfg.text, translated on the server) with its
  // %(name)s placeholders filled.
  function fmt(cfg, key, params) {
    return cfg.text[key].replace(/%\((\w+)\)s/g, function (_m, name) {
      return String(params && name in params ? params[name] : "");
    });
  }

  function typeName(cfg, code) {
    const t = cfg.incident_types.find(function (x) { return x.code === code; });
    return t ? t.name : code;
  }

  // The top reasons behind a colour (geo/risk: ranked hazards, incidents by type, children).
  function topReasons(cfg, r, n) {
    if (!r) { return []; }
    const out = [];
    (r.hazards || []).slice(0, n).forEach(function (h) {
      out.push(fmt(cfg, "reason_hazard", {
        name: h.name, colour: cfg.colour_names[h.colour].name, method: h.method, score: h.score,
      }));
    });
    (r.incidents || []).slice(0, n).forEach(function (i) {
      out.push(typeName(cfg, i.type) + " × " + i.count);
    });
    if (r.hotspot && r.hotspot.significant) { out.push(fmt(cfg, "reason_hotspot", { z: r.hotspot.z })); }
    if (!out.length && r.children && r.children.length) {
      const k = r.children[0];
      out.push(fmt(cfg, "reason_child", { name: k.name, colour: cfg.colour_names[k.colour].name }));
    }
    return out.slice(0, n);
  }

  function chip(cfg, colour) {
    const names = cfg.colour_names[colour];
    if (!names) { return "—"; }
    return '<span class="gs-chip" style="background:' + cfg.colours[colour] + '">' +
      esc(names.name) + "</span>";
  }

  // An area's properties as the map shows it: in the change view (cfg.changes) an area that
  // changed takes its new colour and carries its change, the others no colour; under the
  // composite rule its colour and score are its own (cfg.composite), and its worst child's
  // colour is kept beside them.
  function shown(cfg, p) {
    if (cfg.changes) {
      const row = cfg.changes.find(function (c) { return c.code === p.code; });
      return Object.assign({}, p, row ? { colour: row.after, change: row } : { colour: null, unchanged: true });
    }
    const own = cfg.composite && cfg.composite[p.code];
    if (!own) { return p; }
    return Object.assign({}, p, { colour: own[0], score: own[1], worst_colour: p.colour });
  }

  // "Red child areas (2): A, B" and the same for orange, from the explanation's children.
  function childColours(cfg, children) {
    return ["red", "orange"].map(function (c) {
      const names = children.filter(function (k) { return k.colour === c; })
        .map(function (k) { return k.name; });
      return names.length ? "<p>" + chip(cfg, c) + " " +
        esc(fmt(cfg, c + "_children", { n: names.length, names: names.join("、") })) + "</p>" : "";
    }).join("");
  }

  function changeText(cfg, c) {
    const name = function (x) { return x ? cfg.colour_names[x].name : "—"; };
    return (c.step > 0 ? "▲ " : "▼ ") + fmt(cfg, "changed", { before: name(c.before), after: name(c.after) });
  }

  function tooltipHtml(cfg, p) {
    if (p.change || p.unchanged) {
      return '<div class="gs-tip"><b>' + esc(p.name) + "</b> " + esc(p.code) + "<br>" +
        esc(p.change ? changeText(cfg, p.change) : cfg.text.unchanged) +
        (p.change ? "<ul>" + p.change.reasons.slice(0, 4).map(function (r) {
          return "<li>" + esc(r) + "</li>";
        }).join("") + "</ul>" : "") + "</div>";
    }
    const reasons = topReasons(cfg, p.reasons, 3).map(function (r) {
      return "<li>" + esc(r) + "</li>";
    }).join("");
    const score = p.score === null || p.score === undefined ? "—" : Number(p.score).toFixed(1);
    return '<div class="gs-tip"><b>' + esc(p.name) + "</b> " + esc(p.code) + "<br>" +
      chip(cfg, p.colour) + " " + esc(fmt(cfg, "score", { score: score })) +
      (p.worst_colour ? "<br>" + esc(fmt(cfg, "worst_colour", { colour: cfg.colour_names[p.worst_colour].name })) : "") +
      (reasons ? "<ul>" + reasons + "</ul>" : "") + "</div>";
  }

  function table(cfg, rows, columns) {
    if (!rows || !rows.length) { return "<p>" + esc(cfg.text.none) + "</p>"; }
    return "<table><tr>" + columns.map(function (c) { return "<th>" + esc(c[1]) + "</th>"; })
      .join("") + "</tr>" + rows.map(function (r) {
        return "<tr>" + columns.map(function (c) {
          const v = typeof c[0] === "function" ? c[0](r) : esc(r[c[0]]);
          return "<td>" + v + "</td>";
        }).join("") + "</tr>";
      }).join("") + "</table>";
  }

  function num(v) { return v === null || v === undefined ? "—" : Number(v).toFixed(1); }

  function detailHtml(cfg, d, children) {
    const r = d.reasons || {};
    let html = '<button class="gs-close" title="' + esc(cfg.text.close) + '" aria-label="' +
      esc(cfg.text.close) + '">×</button>' +
      "<h2>" + esc(d.name) + " <small>" + esc(d.code) + "</small></h2>" +
      "<p>" + chip(cfg, d.colour) + " " + esc(fmt(cfg, "score", { score: num(d.score) })) +
      (d.previous_colour ? " · " + esc(cfg.text.previous) + " " + chip(cfg, d.previous_colour) : "") + "</p>" +
      "<p>" + esc(cfg.text.hazards) + " " + chip(cfg, d.hazard_colour) + " · " + esc(cfg.text.incidents) + " " +
      chip(cfg, d.incident_colour) + "</p>";
    const own = cfg.composite && cfg.composite[d.code];
    if (own) {
      html += '<p class="gs-rule-line">' + esc(cfg.rule_name) + " " + chip(cfg, own[0]) + " " +
        esc(fmt(cfg, "score", { score: num(own[1]) })) + "</p>";
    }
    html += childColours(cfg, d.children || []);
    html += "<h3>" + esc(cfg.text.why) + "</h3><ul>" + topReasons(cfg, r, 5).map(function (x) {
      return "<li>" + esc(x) + "</li>";
    }).join("") + "</ul>";
    const scored = {};
    (d.children || []).forEach(function (k) { scored[k.code] = k; });
    const kids = children.map(function (c) { return Object.assign({}, c, scored[c.code] || {}); });
    html += "<h3>" + esc(fmt(cfg, "children", { n: kids.length })) + "</h3>" + table(cfg, kids, [
      [function (c) {
        return '<a href="#" data-code="' + esc(c.code) + '">' + esc(c.name) + "</a>";
      }, cfg.text.name],
      [function (c) { return c.colour ? chip(cfg, c.colour) : "—"; }, cfg.text.colour],
      [function (c) { return esc(num(c.score)); }, cfg.text.score_short],
    ]);
    if (kids.length) {
      html += '<p><a href="/maps/risk?level=' + esc(kids[0].level) + "&as_of=" + esc(cfg.as_of) +
        "&focus=" + encodeURIComponent(d.code) + '">' + esc(cfg.text.show_children) + "</a></p>";
    }
    html += "<h3>" + esc(fmt(cfg, "open_hazards", { n: r.hazards_total || 0 })) + "</h3>" + table(cfg, r.hazards, [
      ["name", cfg.text.name], ["category", cfg.text.category],
      [function (h) { return chip(cfg, h.colour) + " " + esc(h.method) + " " + esc(h.score); }, cfg.text.assessment],
    ]);
    html += "<h3>" + esc(fmt(cfg, "recent_incidents", { n: r.incidents_total || 0 })) + "</h3>" + table(cfg, r.incidents, [
      [function (i) { return esc(typeName(cfg, i.type)); }, cfg.text.type],
      ["count", cfg.text.count],
    ]);
    html += "<h3>" + esc(cfg.text.trend) + "</h3>" + table(cfg, (d.history || []).slice(-12).reverse(), [
      [function (h) { return esc(String(h.as_of).slice(0, 10)); }, cfg.text.as_of],
      [function (h) { return chip(cfg, h.colour); }, cfg.text.colour],
      [function (h) { return esc(num(h.score)); }, cfg.text.score_short],
    ]);
    return html;
  }

  function legendControl(cfg) {
    const legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      const div = L.DomUtil.create("div", "gs-legend");
      let html = "<h4>" + esc(cfg.text.legend) + " · " + esc(cfg.rule_name) + "</h4>" +
        '<div class="gs-rule-text">' + esc(cfg.rule_text) + "</div>";
      ["red", "orange", "yellow", "blue"].forEach(function (c) {
        const n = cfg.colour_names[c];
        const count = cfg.colour_counts ? cfg.colour_counts[c] : null;
        html += '<div><i style="background:' + cfg.colours[c] + '"></i>' + esc(n.name) + " · " +
          esc(n.meaning) +
          (count === null || count === undefined ? "" : ' <span class="gs-count">(' + count + ")</span>") +
          "</div>";
      });
      div.innerHTML = html;
      return div;
    };
    return legend;
  }

  // The change view's ranked list: the areas that rose, then those that fell, with the reasons
  // that changed; a click on a name opens the area's explanation.
  function changesControl(cfg, open) {
    const list = L.control({ position: "bottomleft" });
    list.onAdd = function () {
      const div = L.DomUtil.create("div", "gs-changes");
      div.innerHTML = "<h3>" + esc(cfg.changes_title) + "</h3><ol>" + cfg.changes.map(function (c) {
        return '<li class="' + (c.step > 0 ? "gs-up" : "gs-down") + '"><a href="#" data-code="' +
          esc(c.code) + '">' + esc(c.name) + "</a> " + esc(changeText(cfg, c)) +
          '<div class="gs-why">' + esc(c.reasons.join("；")) + "</div></li>";
      }).join("") + "</ol>";
      div.addEventListener("click", function (e) {
        if (e.target.dataset && e.target.dataset.code) { e.preventDefault(); open(e.target.dataset.code); }
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return list;
  }

  function titleControl(cfg) {
    const title = L.control({ position: "topleft" });
    title.onAdd = function () {
      const div = L.DomUtil.create("div", "gs-title");
      div.innerHTML = "<h1>" + esc(cfg.text.title) + "</h1>" +
        '<div class="gs-sub">' +
        esc(fmt(cfg, "subtitle", { level: cfg.level_name, date: cfg.as_of_text, n: cfg.area_count })) +
        (cfg.mode === "tiles" ? " · " + esc(cfg.text.tiles) : "") + "</div>";
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    return title;
  }

  function panelControl(cfg, handlers) {
    const panel = L.control({ position: "topright" });
    panel.onAdd = function () {
      const div = L.DomUtil.create("div", "gs-panel");
      const levels = cfg.levels.map(function (l) {
        return '<option value="' + esc(l.value) + '"' + (l.value === cfg.level ? " selected" : "") +
          ">" + esc(l.name) + " (" + l.count + ")</option>";
      }).join("");
      const types = cfg.incident_types.map(function (t) {
        return '<label><input type="checkbox" name="type" value="' + esc(t.code) + '" checked> ' +
          esc(t.name) + "</label>";
      }).join("");
      div.innerHTML =
        "<label>" + esc(cfg.text.level) + ' <select id="gs-level">' + levels + "</select></label>" +
        "<label>" + esc(cfg.text.as_of) + ' <input type="date" id="gs-asof" value="' + esc(cfg.as_of) +
        '" max="' + esc(cfg.today) + '"></label>' +
        (cfg.rules.length ? '<div id="gs-rule"><h3>' + esc(cfg.text.rule) + "</h3>" +
          cfg.rules.map(function (r) {
            const v = r.rule + ":" + r.weight;
            return '<label><input type="radio" name="gs-rule" value="' + esc(v) + '"' +
              (v === cfg.rule + ":" + cfg.weight ? " checked" : "") + "> " + esc(r.name) + "</label>";
          }).join("") + "</div>" : "") +
        '<p class="gs-print">' + ["A3", "A1"].map(function (size) {
          return '<a href="/maps/risk.pdf' + query({ level: cfg.level, as_of: cfg.as_of, size: size }) +
            '" target="_blank">' + esc(cfg.text["poster_" + size]) + "</a>";
        }).join(" · ") + "</p>" +
        "<h3>" + esc(cfg.text.layers) + "</h3>" +
        '<label><input type="checkbox" id="gs-hazards" checked> ' + esc(cfg.text.hazards) + "</label>" +
        '<label><input type="checkbox" id="gs-heat"> ' + esc(cfg.text.heat) + "</label>" +
        '<div id="gs-heat-filter" hidden><h3>' + esc(cfg.text.types) + "</h3>" +
        '<div class="gs-types">' + types + "</div>" +
        "<label>" + esc(cfg.text.from) + ' <input type="date" id="gs-from" value="' + esc(cfg.period_from) + '"></label>' +
        "<label>" + esc(cfg.text.to) + ' <input type="date" id="gs-to" value="' + esc(cfg.as_of) + '"></label>' +
        '<button id="gs-apply">' + esc(cfg.text.apply) + '</button> <span id="gs-heat-count"></span></div>';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelector("#gs-level").addEventListener("change", handlers.reload);
      div.querySelector("#gs-asof").addEventListener("change", handlers.reload);
      if (cfg.rules.length) { div.querySelector("#gs-rule").addEventListener("change", handlers.reload); }
      div.querySelector("#gs-hazards").addEventListener("change", handlers.hazards);
      div.querySelector("#gs-heat").addEventListener("change", handlers.heat);
      div.querySelector("#gs-apply").addEventListener("click", handlers.heat);
      return div;
    };
    return panel;
  }

  function vectorStyle(cfg, weight) {
    return function (props) {
      const p = shown(cfg, props);
      return {
        fill: true, fillColor: cfg.colours[p.colour] || cfg.no_colour, fillOpacity: cfg.fill_opacity,
        color: "#ffffff", weight: weight, opacity: 0.9,
      };
    };
  }

  // The areas' names (cfg.labels: the centre and radius of the largest circle inside each area,
  // largest first, and the half-chords of the area through it; geo/labels.py). A name is shown
  // when its box fits the area at the current scale (inside that circle, or within both
  // chords), lies in the map's view, and overlaps no control and no name
  // already placed; the others wait for a closer zoom. Placed again after every zoom and pan.
  function nameLabels(map, cfg) {
    const group = L.layerGroup().addTo(map);
    const items = cfg.labels.map(function (l) {
      return {
        label: l,
        tip: L.tooltip({ permanent: true, direction: "center", className: "gs-label", interactive: false })
          .setLatLng([l.lat, l.lon]).setContent(l.lines.map(esc).join("<br>")),
      };
    });
    // Each name's box as drawn, measured once off screen in the labels' own style.
    const probe = L.DomUtil.create("div", "", map.getContainer());
    probe.style.cssText = "position:absolute;left:-10000px;top:0;visibility:hidden";
    const probes = items.map(function (it) {
      const el = L.DomUtil.create("div", "leaflet-tooltip gs-label", probe);
      el.innerHTML = it.label.lines.map(esc).join("<br>");
      return el;
    });
    probes.forEach(function (el, k) { items[k].w = el.offsetWidth; items[k].h = el.offsetHeight; });
    probe.remove();
    const GAP = 3;

    function place() {
      const size = map.getSize();
      const origin = map.getContainer().getBoundingClientRect();
      const taken = Array.prototype.map.call(
        map.getContainer().querySelectorAll(".leaflet-control"),
        function (e) {
          const r = e.getBoundingClientRect();
          return [r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top];
        });
      // Metres per screen pixel at the map's centre (web mercator).
      const centre = map.getCenter();
      const mpp = 40075016.686 * Math.cos(centre.lat * Math.PI / 180) / (256 * Math.pow(2, map.getZoom()));
      items.forEach(function (it) {
        const l = it.label;
        const p = map.latLngToContainerPoint(it.tip.getLatLng());
        const b = [p.x - it.w / 2 - GAP, p.y - it.h / 2 - GAP, p.x + it.w / 2 + GAP, p.y + it.h / 2 + GAP];
        const fits = (it.w * it.w + it.h * it.h) / 4 <= (l.r / mpp) * (l.r / mpp) ||
          (it.w / 2 <= l.hw / mpp && it.h / 2 <= l.hh / mpp);
        const seen = b[0] >= 0 && b[1] >= 0 && b[2] <= size.x && b[3] <= size.y;
        const free = fits && seen && !taken.some(function (t) {
          return b[0] < t[2] && t[0] < b[2] && b[1] < t[3] && t[1] < b[3];
        });
        if (free) {
          taken.push(b);
          if (!group.hasLayer(it.tip)) { group.addLayer(it.tip); }
        } else if (group.hasLayer(it.tip)) { group.removeLayer(it.tip); }
      });
    }
    map.on("zoomend moveend resize", place);
    return place;
  }

  window.gridsafeRiskMap = function (map, cfg) {
    map.createPane("gs-background").style.zIndex = 250;
    map.createPane("gs-areas").style.zIndex = 400;
    // The hazard markers' pane lies over the areas. Only the markers take the pointer: they are
    // drawn as SVG (one element each) in a pane that lets every other event through to the
    // areas beneath; a canvas there would cover the whole map and take them all.
    const points = map.createPane("gs-points");
    points.style.zIndex = 620;
    points.style.pointerEvents = "none";
    const pointsRenderer = L.svg({ pane: "gs-points" });
    const weight = { subdistrict: 3, grid2: 2.5, grid3: 1.5, micro: 0.8 }[cfg.level];

    if (cfg.background) {
      L.vectorGrid.protobuf("/tiles/buildings/{z}/{x}/{y}.mvt", {
        pane: "gs-background", maxNativeZoom: 18, rendererFactory: L.canvas.tile,
        vectorTileLayerStyles: { buildings: { fill: true, fillColor: "#d9d4c7", fillOpacity: 1, color: "#c4bdab", weight: 0.5 } },
      }).addTo(map);
      L.vectorGrid.protobuf("/tiles/roads/{z}/{x}/{y}.mvt", {
        pane: "gs-background", maxNativeZoom: 18, rendererFactory: L.canvas.tile,
        vectorTileLayerStyles: { roads: { color: "#9a9a9a", weight: 1.6, opacity: 0.9 } },
      }).addTo(map);
    }

    const detail = document.getElementById("gs-detail");
    // Keep the place a person clicked or tapped in view beside the open explanation: under a
    // bottom sheet (tablets, phones) it moves to the middle of the map above the sheet, under
    // the side panel to the middle of the map on the panel's right.
    function keepInView(latlng) {
      const MARGIN = 24;
      const box = map.getContainer().getBoundingClientRect();
      const r = detail.getBoundingClientRect();
      const c = map.latLngToContainerPoint(latlng);
      const x = c.x + box.left, y = c.y + box.top;
      if (x < r.left - MARGIN || x > r.right + MARGIN || y < r.top - MARGIN || y > r.bottom + MARGIN) { return; }
      const sheet = r.width >= box.width - 1;
      map.panBy(sheet ? [0, y - (box.top + r.top) / 2] : [x - (r.right + box.right) / 2, 0], { animate: false });
    }

    function openDetail(code, latlng) {
      detail.hidden = false;
      if (latlng) { keepInView(latlng); }
      detail.innerHTML = "<p>" + esc(fmt(cfg, "loading", { code: code })) + "</p>";
      function get(u) {
        return fetch(u).then(function (r) {
          if (!r.ok) { throw new Error(r.status + " " + r.statusText); }
          return r.json();
        });
      }
      Promise.all([
        get(cfg.detail_url + encodeURIComponent(code) + query({ as_of: cfg.as_of })),
        get(cfg.area_url + encodeURIComponent(code)),
      ])
        .then(function (res) { detail.innerHTML = detailHtml(cfg, res[0], res[1].properties.children); })
        .catch(function (e) { detail.innerHTML = "<p>" + esc(fmt(cfg, "cannot_load", { error: e.message })) + "</p>"; });
    }
    detail.addEventListener("click", function (e) {
      const t = e.target;
      if (t.classList.contains("gs-close")) { detail.hidden = true; }
      if (t.dataset && t.dataset.code) { e.preventDefault(); openDetail(t.dataset.code); }
    });

    let areas;
    if (cfg.mode === "embed") {
      cfg.areas.features.forEach(function (f) { f.properties = shown(cfg, f.properties); });
      areas = L.geoJSON(cfg.areas, {
        pane: "gs-areas",
        style: function (f) {
          const c = f.properties.change;
          return {
            fillColor: cfg.colours[f.properties.colour] || cfg.no_colour,
            fillOpacity: cfg.fill_opacity, opacity: 0.95,
            color: c ? (c.step > 0 ? "#111111" : "#1e7b34") : "#ffffff", weight: c ? weight + 2.5 : weight,
          };
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip(tooltipHtml(cfg, f.properties), { sticky: true });
          layer.on("click", function (e) { openDetail(f.properties.code, e.latlng); });
        },
      }).addTo(map);
    } else {
      // VectorGrid's canvas tiles end a click with L.DomEvent.fakeStop, which Leaflet 1.8
      // removed: without it every click on a tile throws before reaching the area.
      L.DomEvent.fakeStop = L.DomEvent.fakeStop || L.DomEvent.stopPropagation;
      const tip = L.tooltip({ sticky: true });
      areas = L.vectorGrid.protobuf(cfg.tile_url, {
        pane: "gs-areas", interactive: true, maxNativeZoom: 18, rendererFactory: L.canvas.tile,
        vectorTileLayerStyles: { areas: vectorStyle(cfg, weight) },
        getFeatureId: function (f) { return f.properties.code; },
      })
        .on("click", function (e) { openDetail(e.layer.properties.code, e.latlng); })
        .on("mouseover", function (e) {
          tip.setContent(tooltipHtml(cfg, shown(cfg, e.layer.properties))).setLatLng(e.latlng).addTo(map);
        })
        .on("mouseout", function () { map.removeLayer(tip); })
        .addTo(map);
    }

    const hazards = L.layerGroup();
    let hazardsLoaded = false;
    function loadHazards() {
      hazardsLoaded = true;
      fetch(cfg.hazards_url + query({ as_of: cfg.as_of }))
        .then(function (r) { return r.json(); })
        .then(function (d) {
          d.hazards.forEach(function (h) {
            L.circleMarker([h.lat, h.lon], {
              pane: "gs-points", renderer: pointsRenderer, radius: { red: 9, orange: 8, yellow: 7, blue: 6 }[h.colour],
              fillColor: cfg.colours[h.colour], fillOpacity: 1, color: "#222", weight: 1.5,
            }).bindTooltip(
              "<b>" + esc(h.name) + "</b><br>" + esc(h.category) + " · " + chip(cfg, h.colour) +
              "<br>" + esc(h.method) + " " + esc(h.score)
            ).addTo(hazards);
          });
        });
    }

    let heat = null;
    // The incidents under the heat, as markers a pointer can read (type and time), shown only
    // from cfg.incident_marker_zoom on, where they stand apart.
    const incidents = L.layerGroup();
    function showIncidents() {
      const on = heat !== null && map.getZoom() >= cfg.incident_marker_zoom;
      if (on && !map.hasLayer(incidents)) { incidents.addTo(map); }
      if (!on && map.hasLayer(incidents)) { map.removeLayer(incidents); }
    }
    map.on("zoomend", showIncidents);
    function loadHeat() {
      const on = document.getElementById("gs-heat").checked;
      document.getElementById("gs-heat-filter").hidden = !on;
      if (heat) { map.removeLayer(heat); heat = null; }
      incidents.clearLayers();
      showIncidents();
      if (!on) { return; }
      const types = Array.prototype.map.call(
        document.querySelectorAll('#gs-heat-filter input[name="type"]:checked'),
        function (i) { return i.value; });
      const all = types.length === cfg.incident_types.length;
      fetch(cfg.incidents_url + query({
        type: all ? [] : (types.length ? types : ["-"]),
        from: document.getElementById("gs-from").value, to: document.getElementById("gs-to").value,
      }))
        .then(function (r) { return r.json(); })
        .then(function (d) {
          document.getElementById("gs-heat-count").textContent = fmt(cfg, "heat_count", { n: d.count });
          heat = L.heatLayer(d.points, { radius: 20, blur: 16, minOpacity: 0.35 }).addTo(map);
          d.points.forEach(function (p, i) {
            L.circleMarker(p, {
              pane: "gs-points", renderer: pointsRenderer, radius: 5,
              fillColor: "#6a3d9a", fillOpacity: 0.9, color: "#ffffff", weight: 1.5,
            }).bindTooltip("<b>" + esc(typeName(cfg, d.details[i][0])) + "</b><br>" + esc(d.details[i][1]))
              .addTo(incidents);
          });
          showIncidents();
        });
    }

    function reload() {
      const q = new URLSearchParams(window.location.search);
      q.set("level", document.getElementById("gs-level").value);
      q.set("as_of", document.getElementById("gs-asof").value);
      const rule = document.querySelector('input[name="gs-rule"]:checked');
      if (rule) {
        q.set("rule", rule.value.split(":")[0]);
        q.set("weight", rule.value.split(":")[1]);
      }
      q.delete("focus");
      window.location.search = q.toString();
    }

    titleControl(cfg).addTo(map);
    panelControl(cfg, {
      reload: reload,
      hazards: function (e) {
        if (e.target.checked) {
          if (!hazardsLoaded) { loadHazards(); }
          hazards.addTo(map);
        } else { map.removeLayer(hazards); }
      },
      heat: loadHeat,
    }).addTo(map);
    legendControl(cfg).addTo(map);
    if (cfg.changes) { changesControl(cfg, openDetail).addTo(map); }
    L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);

    // Quarter zoom steps, so the district fills the screen at the first view.
    map.options.zoomSnap = 0.25;
    const placeLabels = nameLabels(map, cfg);
    map.fitBounds(cfg.focus_bounds || cfg.bounds, { padding: [10, 10] });
    placeLabels();
    // Printing lays the map out anew (maps.css @media print): the district fills the paper's map.
    window.matchMedia("print").addEventListener("change", function (e) {
      map.invalidateSize(false);
      if (e.matches) { map.fitBounds(cfg.focus_bounds || cfg.bounds, { padding: [10, 10], animate: false }); }
    });
    loadHazards();
    hazards.addTo(map);
    window.gridsafe = { map: map, areas: areas, hazards: hazards, openDetail: openDetail };
  };
})();
