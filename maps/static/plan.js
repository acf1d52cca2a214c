/* gridsafe planning page: plan a shift's routes as a background job, show its progress, cancel
 * it, draw the plan (paths, numbered stops spread where they crowd, a timetable per unit, the
 * risk covered against the ceiling, every candidate left out with its reason), drop stops or
 * remove units and re-plan, save, and find the day's plans again. Everything it loads comes
 * from the app: /api/routes..., /api/risk for the red and orange areas beneath. */
(function () {
  "use strict";
  const cfg = JSON.parse(document.getElementById("gs-plan-config").textContent);
  const $ = function (id) { return document.getElementById(id); };
  const status = $("gs-plan-status");
  const RISK = { red: "#e31a1c", orange: "#ff8c00" };

  function esc(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function fmt(key, params) {
    return cfg.text[key].replace(/%\((\w+)\)s/g, function (_m, name) {
      return String(params && name in params ? params[name] : "");
    });
  }
  function hhmm(iso) { return String(iso).slice(11, 16); }
  function send(method, url, body) {
    const token = document.querySelector("meta[name=csrf-token]").content;
    const headers = { "X-CSRF-Token": token };
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(url, { method: method, headers: headers, body: body ? JSON.stringify(body) : null })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok) { throw new Error(typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail)); }
          return j;
        });
      });
  }
  function say(text, error) { status.textContent = text; status.className = error ? "gs-error" : ""; }

  // The map: red and orange micro-grids beneath, the plan above.
  const map = L.map("gs-plan-map", { zoomControl: true, attributionControl: false, maxZoom: 19, minZoom: 10 });
  map.setView([34.78, 113.7], 13);
  const planLayer = L.layerGroup().addTo(map);
  let stopMarkers = [];
  fetch("/api/risk?level=micro").then(function (r) { return r.ok ? r.json() : null; }).then(function (areas) {
    if (!areas) { return; }
    const hot = areas.features.filter(function (f) { return RISK[f.properties.colour]; });
    const layer = L.geoJSON({ type: "FeatureCollection", features: hot }, {
      style: function (f) {
        return { color: RISK[f.properties.colour], weight: 1, fillOpacity: 0.25, opacity: 0.5 };
      },
      interactive: false,
    }).addTo(map);
    layer.bringToBack();
    if (!current && hot.length) { map.fitBounds(layer.getBounds()); }
  });

  // Numbered stops stay readable where they crowd (spread.js), at every zoom.
  function spread() { window.gsSpread(map, stopMarkers, 26); }
  map.on("zoomend", spread);

  let current = null;           // the plan drawn
  let request = null;           // the request it answered (re-planned with the changes)
  const dropped = new Set();    // candidate ids dropped on this page
  const pinned = new Set();     // candidate ids pinned (kept from plan to plan)
  const removed = new Set();    // unit names removed on this page
  let job = null, timer = null;

  function shiftStart() {
    if ($("gs-shift").value === "span") {
      // A span ending at or before its start ends the next day.
      const from = $("gs-from").value, to = $("gs-to").value;
      const minutes = function (hm) { return Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5)); };
      const length = (minutes(to) - minutes(from) + 1440) % 1440 || 1440;
      return { start: $("gs-day").value + "T" + from + ":00", minutes: length };
    }
    const s = cfg.shifts.find(function (x) { return String(x.number) === $("gs-shift").value; });
    const hour = String(s.start).padStart(2, "0");
    return { start: $("gs-day").value + "T" + hour + ":00:00", minutes: s.hours * 60 };
  }

  function unitsOnDuty() {
    document.querySelectorAll("#gs-units-pick input[name=unit]").forEach(function (box) {
      const shifts = box.dataset.shifts ? box.dataset.shifts.split(",") : [];
      const duty = shifts.indexOf($("gs-shift").value) >= 0;
      box.checked = duty;
      box.parentElement.classList.toggle("gs-on-duty", duty);
    });
  }
  $("gs-shift").addEventListener("change", function () {
    $("gs-span").hidden = $("gs-shift").value !== "span";
    unitsOnDuty(); loadPlans();
  });
  $("gs-day").addEventListener("change", loadPlans);

  // The dispatcher's own points: "name, lon, lat, risk" a line (commas of either width).
  function ownPoints() {
    const out = [];
    $("gs-points").value.split("\n").forEach(function (line, i) {
      if (!line.trim()) { return; }
      const f = line.split(/[,，]/).map(function (x) { return x.trim(); });
      const lon = Number(f[1]), lat = Number(f[2]), risk = Number(f[3]);
      if (f.length !== 4 || !f[0] || !f[1] || !f[2] || !f[3] || !isFinite(lon) || !isFinite(lat) ||
          !isFinite(risk) || risk < 0) {
        throw new Error(fmt("bad_point", { line: i + 1 }));
      }
      out.push({ id: "own-" + (i + 1), kind: "point", label: f[0], lon: lon, lat: lat, risk: risk });
    });
    return out;
  }

  function freshRequest() {
    const picked = Array.from(document.querySelectorAll("#gs-units-pick input[name=unit]:checked"))
      .map(function (b) { return b.value; });
    const units = cfg.units.filter(function (u) { return picked.indexOf(u.name) >= 0; })
      .map(function (u) { return { name: u.name, station: u.station, kind: u.kind }; });
    const shift = shiftStart();
    return {
      units: units, shift_start: shift.start, budget_min: shift.minutes,
      risk_areas: $("gs-src-risk").checked, gaps: $("gs-src-gaps").checked,
      school_gates: $("gs-src-gates").checked,
      time_limit_s: Number($("gs-limit").value) || undefined,
      candidates: ownPoints(),
    };
  }

  function run(body) {
    if (!body.units.length) { say(cfg.text.no_units, true); return; }
    $("gs-run").disabled = true; $("gs-replan").disabled = true;
    $("gs-cancel").disabled = false;
    $("gs-progress").hidden = false; $("gs-progress").value = 0;
    say(cfg.text.stage_queue);
    send("POST", "/api/routes/jobs", body).then(function (j) {
      job = j.id; request = body; poll();
    }).catch(function (e) { finish(); say(fmt("failed", { error: e.message }), true); });
  }

  function poll() {
    send("GET", "/api/routes/jobs/" + job).then(function (j) {
      $("gs-progress").value = j.progress;
      if (j.state === "done") { finish(); show(j.plan_id); return; }
      if (j.state === "cancelled") { finish(); say(cfg.text.cancelled); return; }
      if (j.state === "failed") { finish(); say(fmt("failed", { error: j.error }), true); return; }
      say(fmt("stage_" + j.stage, { s: Math.round(j.elapsed_s) }));
      timer = setTimeout(poll, cfg.poll_ms);
    }).catch(function (e) { finish(); say(fmt("not_reachable", { error: e.message }), true); });
  }

  function finish() {
    clearTimeout(timer);
    $("gs-run").disabled = false; $("gs-replan").disabled = false;
    $("gs-cancel").disabled = true; $("gs-progress").hidden = true;
  }

  $("gs-run").addEventListener("click", function () {
    let body;
    try { body = freshRequest(); } catch (e) { say(e.message, true); return; }
    dropped.clear(); removed.clear(); pinned.clear(); run(body);
  });
  $("gs-cancel").addEventListener("click", function () {
    if (job) { send("DELETE", "/api/routes/jobs/" + job).catch(function () { return null; }); }
  });
  $("gs-replan").addEventListener("click", function () {
    const body = Object.assign({}, request);
    body.units = request.units.filter(function (u) { return !removed.has(u.name); });
    body.exclude = (request.exclude || []).concat(Array.from(dropped));
    body.pinned = Array.from(pinned).filter(function (id) { return !dropped.has(id); });
    body.based_on = current.id;
    dropped.clear(); removed.clear();
    run(body);
  });
  $("gs-save").addEventListener("click", function () {
    send("POST", "/api/routes/" + current.id + "/save").then(function (j) {
      say(fmt("saved", { time: hhmm(j.saved_at) })); loadPlans();
    }).catch(function (e) { say(fmt("failed", { error: e.message }), true); });
  });

  function show(planId) {
    return send("GET", "/api/routes/" + planId).then(function (plan) {
      current = plan;
      const r = plan.request;
      request = {
        units: r.units, shift_start: r.shift_start, shift_end: r.shift_end,
        risk_areas: r.risk_areas, gaps: r.gaps, school_gates: r.school_gates,
        candidates: r.candidates, solver: r.solver, time_limit_s: r.time_limit_s || undefined,
        exclude: r.exclude || [],
      };
      pinned.clear();
      (r.pinned || []).forEach(function (id) { pinned.add(id); });
      draw(plan);
      review(plan);
      say(plan.saved_at ? fmt("saved", { time: hhmm(plan.saved_at) }) : "");
      history.replaceState(null, "", "/maps/routes?plan=" + plan.id);
      loadPlans();
    });
  }

  function draw(plan) {
    planLayer.clearLayers(); stopMarkers = [];
    const bounds = [];
    plan.units.forEach(function (u, i) {
      const colour = cfg.colours[i % cfg.colours.length];
      if (u.path) {
        const line = L.geoJSON(u.path, { style: { color: colour, weight: 5, opacity: 0.9 } }).addTo(planLayer);
        bounds.push(line.getBounds());
      }
      if (u.station.geometry) {
        const c = u.station.geometry.coordinates;
        const home = L.marker([c[1], c[0]], { icon: L.divIcon({
          className: "", iconSize: [26, 26], iconAnchor: [13, 13],
          html: '<div class="gs-stop gs-station" style="background:#1d3557;width:26px;height:26px;line-height:26px">■</div>',
        }) }).bindTooltip(esc(u.name + " · " + u.station.name));
        // One square per station, however many units start there; spread like the stops.
        if (!stopMarkers.some(function (m) { return m.station && m.home.equals([c[1], c[0]]); })) {
          home.home = L.latLng(c[1], c[0]); home.station = true;
          home.addTo(planLayer); stopMarkers.push(home);
        }
      }
      u.stops.forEach(function (s) {
        const c = s.geometry.coordinates;
        const m = L.marker([c[1], c[0]], { icon: L.divIcon({
          className: "", iconSize: [24, 24], iconAnchor: [12, 12],
          html: '<div class="gs-stop" data-unit="' + i + '" style="background:' + colour +
            ';width:24px;height:24px;line-height:24px">' + s.seq + "</div>",
        }) }).bindTooltip(esc(u.name + " #" + s.seq + " " + s.label + " " + hhmm(s.arrival) + "–" + hhmm(s.departure)));
        m.home = L.latLng(c[1], c[0]);
        m.addTo(planLayer); stopMarkers.push(m);
        bounds.push(L.latLngBounds([m.home, m.home]));
      });
    });
    if (bounds.length) {
      // Without animation: the stops are spread at the zoom the map ends at.
      map.fitBounds(bounds.reduce(function (a, b) { return a.extend(b); }), { padding: [30, 30], animate: false });
    }
    spread();
    const sum = plan.summary;
    $("gs-result").hidden = false;
    $("gs-plan-title").textContent = fmt("title", { id: plan.id });
    $("gs-plan-summary").textContent = fmt("summary", {
      date: plan.shift.start.slice(0, 10), start: hhmm(plan.shift.start), end: hhmm(plan.shift.end),
      covered: sum.risk_covered.toFixed(1), total: sum.risk_total.toFixed(1),
      share: sum.share_covered === null ? "—" : Math.round(sum.share_covered * 100) + "%",
      planned: sum.stops_planned, considered: sum.stops_considered,
    });
    $("gs-gpx").href = "/api/routes/" + plan.id + ".gpx";
    $("gs-geojson").href = "/api/routes/" + plan.id + ".geojson";
    $("gs-timetables").innerHTML = plan.units.map(function (u, i) {
      const colour = cfg.colours[i % cfg.colours.length];
      const rows = u.stops.map(function (s) {
        const why = cfg.kinds[s.kind] + " · " + (s.window
          ? fmt("risk_window", { risk: s.risk.toFixed(1), window: s.window })
          : fmt("risk_only", { risk: s.risk.toFixed(1) }));
        return '<tr data-candidate="' + esc(s.candidate_id) + '"><td>' + s.seq + "</td><td>" +
          esc(s.label) + "</td><td>" + esc(why) + "</td><td>" + hhmm(s.arrival) + "</td><td>" +
          esc(fmt("minutes", { n: Math.round(s.dwell_s / 60) })) + "</td><td>" + hhmm(s.departure) +
          '</td><td><button type="button" class="gs-pin" aria-pressed="' + pinned.has(s.candidate_id) +
          '">' + esc(pinned.has(s.candidate_id) ? cfg.text.pinned : cfg.text.pin) +
          '</button> <button type="button" class="gs-drop">' + esc(cfg.text.drop) + "</button></td></tr>";
      }).join("");
      return '<div class="gs-timetable" data-unit="' + esc(u.name) + '"><h3><i style="background:' +
        colour + '"></i>' + esc(fmt("unit_head", {
          unit: u.name, station: u.station.name, depart: hhmm(u.depart), back: hhmm(u["return"]),
          km: (u.distance_m / 1000).toFixed(1), risk: u.risk_covered.toFixed(1),
        })) + '</h3><p><button type="button" class="gs-remove-unit">' + esc(cfg.text.remove_unit) +
        '</button> <a class="gs-sheet-link" href="/maps/routes/' + plan.id + "/sheet/" + i + '">' +
        esc(cfg.text.sheet) + '</a></p><table class="gs-table"><thead><tr><th>' +
        [cfg.text.seq, cfg.text.place, cfg.text.why, cfg.text.arrive, cfg.text.stay, cfg.text.leave, ""]
          .map(esc).join("</th><th>") + "</th></tr></thead><tbody>" + rows + "</tbody></table></div>";
    }).join("");
    $("gs-left-title").textContent = fmt("left_title", { n: plan.left_out.length });
    $("gs-left-out").innerHTML = "<tr><th>" + esc(cfg.text.place) + "</th><th>" + esc(cfg.text.kind) +
      "</th><th>" + esc(cfg.text.reason) + "</th></tr>" + plan.left_out.map(function (c) {
        return "<tr><td>" + esc(c.label) + (c.window ? " (" + esc(c.window) + ")" : "") + "</td><td>" +
          esc(cfg.kinds[c.kind] || c.kind) + "</td><td>" + esc(c.reason_code
            ? fmt("reason_" + c.reason_code, c.reason_params) : c.reason) + "</td></tr>";
      }).join("");
    document.querySelectorAll("#gs-timetables .gs-drop").forEach(function (b) {
      b.addEventListener("click", function () {
        const row = b.closest("tr"), id = row.dataset.candidate;
        if (dropped.has(id)) { dropped.delete(id); b.textContent = cfg.text.drop; row.classList.remove("gs-dropped"); }
        else { dropped.add(id); b.textContent = cfg.text.dropped; row.classList.add("gs-dropped"); }
      });
    });
    document.querySelectorAll("#gs-timetables .gs-pin").forEach(function (b) {
      b.addEventListener("click", function () {
        const id = b.closest("tr").dataset.candidate;
        if (pinned.has(id)) { pinned.delete(id); } else { pinned.add(id); }
        b.setAttribute("aria-pressed", String(pinned.has(id)));
        b.textContent = pinned.has(id) ? cfg.text.pinned : cfg.text.pin;
      });
    });
    document.querySelectorAll("#gs-timetables .gs-remove-unit").forEach(function (b) {
      b.addEventListener("click", function () {
        const box = b.closest(".gs-timetable"), name = box.dataset.unit;
        if (removed.has(name)) { removed.delete(name); b.textContent = cfg.text.remove_unit; box.classList.remove("gs-dropped"); }
        else { removed.add(name); b.textContent = cfg.text.removed; box.classList.add("gs-dropped"); }
      });
    });
  }

  // The plan against the tracks, once its shift has begun: each stop reached, late, missed or
  // still ahead, and the share of the planned risk covered.
  function review(plan) {
    $("gs-review").hidden = true;
    if (new Date(plan.shift.start) > new Date()) { return; }
    send("GET", "/api/routes/" + plan.id + "/review").then(function (r) {
      const s = r.summary;
      $("gs-review-summary").textContent = fmt("review_summary", {
        time: hhmm(r.as_of), reached: s.reached, late: s.late, missed: s.missed, pending: s.pending,
        share: s.share_covered === null ? "—" : Math.round(s.share_covered * 100) + "%",
      });
      $("gs-review-table").innerHTML = r.units.map(function (u) {
        return u.stops.map(function (st) {
          const text = st.status === "late" ? fmt("status_late", { min: Math.round(st.late_s / 60) })
            : cfg.text["status_" + st.status];
          return '<tr class="gs-review-' + st.status + '" data-candidate="' + esc(st.candidate_id) + '"><td>' +
            esc(u.name) + " #" + st.seq + "</td><td>" + esc(st.label) + "</td><td>" + esc(text) +
            "</td><td>" + esc(fmt("stayed", { min: Math.round(st.stayed_s / 60) })) + "</td></tr>";
        }).join("");
      }).join("");
      $("gs-review").hidden = false;
    }).catch(function () { return null; });
  }

  function loadPlans() {
    const q = "?day=" + encodeURIComponent($("gs-day").value);
    send("GET", "/api/routes" + q).then(function (plans) {
      $("gs-plans").innerHTML = plans.length ? plans.map(function (p) {
        return "<tr" + (current && current.id === p.id ? ' class="gs-current"' : "") + "><td>" +
          esc(fmt("plan_row", { id: p.id, start: hhmm(p.shift.start), end: hhmm(p.shift.end), units: p.units.join("、") })) +
          "</td><td>" + esc(p.saved_at ? fmt("saved", { time: hhmm(p.saved_at) }) : cfg.text.draft) +
          '</td><td><a href="/maps/routes?plan=' + p.id + '">' + esc(cfg.text.open) + "</a></td></tr>";
      }).join("") : "<tr><td>" + esc(cfg.text.no_plans) + "</td></tr>";
    }).catch(function () { return null; });
  }

  unitsOnDuty();
  if (cfg.plan_id) { show(cfg.plan_id).catch(function (e) { say(fmt("failed", { error: e.message }), true); }); }
  else { loadPlans(); }
})();
