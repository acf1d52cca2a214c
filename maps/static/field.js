/* The phone pages' script: the outbox (reports and check-ins kept in IndexedDB until sent,
   each with an id made here so the server stores it once), the map (micro-grids; a tap picks
   a position), the phone's position, and the moves of a case. No library but Leaflet. */
(function () {
  "use strict";
  var words = JSON.parse(document.getElementById("fd-words").textContent);
  var messageBox = document.getElementById("fd-message");
  var outboxBox = document.getElementById("fd-outbox");
  var done = document.getElementById("fd-done");

  function say(key, params) {
    var text = words[key] || key;
    Object.keys(params || {}).forEach(function (k) {
      text = text.split("%(" + k + ")s").join(String(params[k]));
    });
    return text;
  }
  function show(text, kind) {
    messageBox.textContent = text;
    messageBox.className = "fd-message fd-msg-" + (kind || "info");
    messageBox.hidden = false;
  }
  function note(text) {
    if (!done) { return; }
    var li = document.createElement("li");
    li.textContent = text;
    done.insertBefore(li, done.firstChild);
  }
  function csrf() { return document.querySelector("meta[name=csrf-token]").content; }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return [h.slice(0, 8), h.slice(8, 12), h.slice(12, 16), h.slice(16, 20), h.slice(20)].join("-");
  }

  /* ---- the outbox: IndexedDB, one object store keyed by the item's id ---- */
  var opened = null;
  function db() {
    if (!opened) {
      opened = new Promise(function (resolve, reject) {
        var request = indexedDB.open("gridsafe-field", 1);
        request.onupgradeneeded = function () { request.result.createObjectStore("outbox", {keyPath: "id"}); };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opened;
  }
  function store(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction("outbox", mode);
        var request = work(t.objectStore("outbox"));
        t.oncomplete = function () { resolve(request ? request.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function waiting() { return store("readonly", function (s) { return s.getAll(); }); }
  function keep(item) { return store("readwrite", function (s) { s.put(item); }); }
  function forget(id) { return store("readwrite", function (s) { s.delete(id); }); }

  function showOutbox() {
    return waiting().then(function (items) {
      outboxBox.hidden = items.length === 0;
      outboxBox.textContent = say("waiting", {n: items.length}) +
        (items.length ? " · " + items.map(function (i) { return i.label; }).join(" · ") : "");
    });
  }

  function request(item) {
    var init = {method: "POST", headers: {"X-CSRF-Token": csrf()}, credentials: "same-origin"};
    if (item.json) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(item.json);
    } else {
      var form = new FormData();
      Object.keys(item.fields).forEach(function (k) {
        if (item.fields[k] !== null && item.fields[k] !== undefined && item.fields[k] !== "") {
          form.append(k, item.fields[k]);
        }
      });
      (item.files || []).forEach(function (f) { form.append("photos", f, f.name || "photo.jpg"); });
      init.body = form;
    }
    return fetch(item.url, init);
  }

  var handlers = {};
  var flushing = null;
  function flush() {
    if (flushing) { return flushing; }
    flushing = waiting().then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return request(item).then(function (response) {
            if (response.status >= 500 || response.status === 401 || response.status === 403) {
              return null;  /* kept: tried again later (server busy, signed out) */
            }
            return response.json().then(function (body) {
              return forget(item.id).then(function () {
                if (response.ok) {
                  (handlers[item.kind] || function () {})(item, body);
                } else {
                  show(body.message || say("refused", {detail: body.detail}), "error");
                  note(item.label + ": " + (body.message || body.detail));
                }
              });
            });
          }, function () { return null; });  /* no connection: kept */
        });
      }, Promise.resolve());
    }).then(showOutbox, showOutbox).then(function () { flushing = null; });
    return flushing;
  }
  function post(item) {
    return keep(item).then(showOutbox).then(function () {
      if (!navigator.onLine) { show(say("saved"), "info"); }
      return flush();
    }).then(function () {
      return waiting().then(function (items) {
        if (items.some(function (i) { return i.id === item.id; })) { show(say("saved"), "info"); }
      });
    });
  }
  window.addEventListener("online", function () { flush(); });
  setInterval(function () { if (navigator.onLine) { flush(); } }, 10000);

  /* ---- the map ---- */
  var mapBox = document.getElementById("fd-map");
  var map = null, picked = null, mark = null;
  var whereBox = document.getElementById("fd-where");
  function setPosition(lat, lon, accuracy, fromPhone) {
    picked = {lat: lat, lon: lon, accuracy: accuracy};
    if (whereBox) {
      whereBox.textContent = (fromPhone ? say("accuracy", {m: Math.round(accuracy)}) : say("tapped")) +
        " (" + lon.toFixed(6) + ", " + lat.toFixed(6) + ")";
    }
    if (map) {
      if (mark) { map.removeLayer(mark); }
      mark = fromPhone && accuracy
        ? L.circle([lat, lon], {radius: accuracy, color: "#1d3557", weight: 2, fillOpacity: 0.15})
        : L.circleMarker([lat, lon], {radius: 8, color: "#1d3557", weight: 3, fillOpacity: 0.6});
      mark.addTo(map);
    }
  }
  if (mapBox && window.L) {
    var micro = JSON.parse(document.getElementById("fd-micro").textContent);
    map = L.map(mapBox, {zoomControl: true, attributionControl: false, tap: true});
    window.fdMap = map;
    var layer = L.geoJSON(micro, {
      style: function (f) {
        var p = f.properties;
        return {color: "#333", weight: 1.5, dashArray: p.visited === false ? "5 4" : null,
                fillColor: words.colours[p.colour] || "#bbbbbb", fillOpacity: 0.45};
      },
      onEachFeature: function (f, l) { l.bindTooltip(f.properties.name); }
    }).addTo(map);
    if (micro.features.length) { map.fitBounds(layer.getBounds(), {padding: [8, 8]}); }
    else { map.setView([0, 0], 2); }
    if (mapBox.dataset.mode === "pick") {
      map.on("click", function (e) { setPosition(e.latlng.lat, e.latlng.lng, null, false); });
    }
  }
  function locate() {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject(new Error("—")); return; }
      if (whereBox) { whereBox.textContent = say("locating"); }
      navigator.geolocation.getCurrentPosition(function (p) {
        setPosition(p.coords.latitude, p.coords.longitude, p.coords.accuracy, true);
        resolve(picked);
      }, function (e) {
        var text = say("no_geolocation", {reason: e.message || e.code});
        if (whereBox) { whereBox.textContent = text; }
        reject(new Error(text));
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 0});
    });
  }
  var locateButton = document.getElementById("fd-locate");
  if (locateButton) { locateButton.addEventListener("click", function () { locate().catch(function () {}); }); }

  /* ---- the photo picker: its label is the button; the choice is said in the page's words ---- */
  var picker = document.getElementById("fd-photos");
  var chosen = document.getElementById("fd-chosen");
  function showChosen() {
    if (!picker || !chosen) { return; }
    var files = Array.prototype.slice.call(picker.files || []);
    var max = Number(picker.dataset.max);
    chosen.className = "fd-chosen";
    if (!files.length) {
      chosen.textContent = say("no_photo");
    } else if (max && files.length > max) {
      chosen.textContent = say("too_many_photos", {n: max});
      chosen.className = "fd-chosen fd-msg-error";
    } else {
      chosen.textContent = say("photos_chosen", {n: files.length,
        names: files.map(function (f) { return f.name; }).join("、")});
    }
  }
  if (picker) { picker.addEventListener("change", showChosen); }

  /* ---- report an incident or a hazard ---- */
  handlers.report = function (item, body) {
    show(say("sent"), "ok");
    note(item.label + " · #" + body.id + " · " + (body.area_code || ""));
  };
  var report = document.getElementById("fd-report");
  if (report) {
    var kindOf = function () { return report.querySelector("input[name=kind]:checked").value; };
    var showKind = function () {
      report.querySelectorAll("[data-for]").forEach(function (e) { e.hidden = e.dataset.for !== kindOf(); });
    };
    report.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", showKind); });
    showKind();
    report.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!picked) { show(say("no_position"), "error"); return; }
      var kind = kindOf();
      var what = kind === "incident" ? report.elements.type : report.elements.category;
      var id = uuid();
      var item = {
        id: id, kind: "report", url: report.dataset.url,
        label: report.querySelector("input[name=kind]:checked").parentNode.textContent.trim() + " · " +
               what.options[what.selectedIndex].text,
        fields: {
          client_id: id, kind: kind, lon: picked.lon, lat: picked.lat,
          accuracy_m: picked.accuracy, at: new Date().toISOString(), what: what.value,
          description: report.elements.description.value,
          likelihood: kind === "hazard" ? report.elements.likelihood.value : null,
          severity: kind === "hazard" ? report.elements.severity.value : null
        },
        files: Array.prototype.slice.call(report.elements.photos.files)
      };
      report.elements.description.value = "";
      report.elements.photos.value = "";
      showChosen();
      post(item);
    });
  }

  /* ---- a hazard's rectification ---- */
  handlers.rectification = function () { show(say("sent"), "ok"); setTimeout(function () { location.reload(); }, 800); };
  var rectify = document.getElementById("fd-rectify");
  if (rectify) {
    rectify.addEventListener("submit", function (e) {
      e.preventDefault();
      var id = uuid();
      var status = rectify.elements.status;
      post({
        id: id, kind: "rectification", url: rectify.dataset.url,
        label: status.options[status.selectedIndex].text + " · " + rectify.elements.on_day.value,
        fields: {client_id: id, status: status.value, on_day: rectify.elements.on_day.value,
                 note: rectify.elements.note.value},
        files: Array.prototype.slice.call(rectify.elements.photos.files)
      });
    });
  }

  /* ---- check in ---- */
  handlers.checkin = function (item, body) {
    show(say("checked_in", {name: body.area_name || body.area_code}), "ok");
    note(say("checked_in", {name: body.area_name || body.area_code}));
  };
  var checkin = document.getElementById("fd-checkin");
  if (checkin) {
    checkin.addEventListener("click", function () {
      checkin.disabled = true;
      locate().then(function (p) {
        var at = new Date().toISOString();
        return post({
          id: uuid(), kind: "checkin", url: checkin.dataset.url, label: checkin.dataset.label,
          json: {lon: p.lon, lat: p.lat, accuracy_m: p.accuracy, at: at}
        });
      }).catch(function (err) { show(err.message, "error"); })
        .then(function () { checkin.disabled = false; });
    });
  }

  /* ---- a case's moves (online only: a move depends on the case as it is now) ---- */
  var caseBox = document.getElementById("fd-case");
  var moveForm = document.getElementById("fd-move-form");
  if (caseBox && moveForm) {
    moveForm.querySelectorAll(".fd-move").forEach(function (button) {
      button.addEventListener("click", function () {
        var body = {to: button.dataset.to, version: Number(caseBox.dataset.version),
                    note: moveForm.elements.note.value || null};
        if (button.dataset.to === "dispatched") { body.squad = moveForm.elements.squad.value; }
        if (button.dataset.reopen) {
          body.reason = moveForm.elements.reason.value.trim();
          if (!body.reason) { show(say("reason_needed"), "error"); return; }
        }
        fetch("/api/cases/" + caseBox.dataset.case + "/transitions", {
          method: "POST", credentials: "same-origin",
          headers: {"X-CSRF-Token": csrf(), "Content-Type": "application/json"},
          body: JSON.stringify(body)
        }).then(function (response) {
          return response.json().then(function (answer) {
            if (response.ok) { location.reload(); return; }
            if (response.status === 409 && answer.state) {
              show(say("stale", {state: words.states[answer.state] || answer.state}), "error");
            } else {
              show(say("refused", {detail: answer.detail}), "error");
            }
          });
        }, function () { show(say("saved"), "error"); });
      });
    });
  }

  /* ---- the service worker: these pages and their assets open with no connection ---- */
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", {scope: "/field"}).catch(function () {});
  }

  showOutbox().then(function () { if (navigator.onLine) { flush(); } });
})();
