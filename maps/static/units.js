/* The register of patrol units and stations: each row saved or removed in place through
 * /api/units and /api/stations, then the page reloads to show the register as stored. */
(function () {
  "use strict";
  const text = JSON.parse(document.getElementById("gs-register-text").textContent);
  const status = document.getElementById("gs-register-status");

  function send(method, url, body) {
    const token = document.querySelector("meta[name=csrf-token]").content;
    const headers = {"X-CSRF-Token": token};
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {method: method, headers: headers, body: body ? JSON.stringify(body) : null})
      .then(function (r) {
        if (r.ok) { window.location.reload(); return; }
        return r.json().then(function (j) {
          status.textContent = text.failed + " " + (typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail));
          status.className = "gs-error";
        });
      });
  }

  document.querySelectorAll("#gs-units tbody tr").forEach(function (row) {
    const field = function (n) { return row.querySelector("[name=" + n + "]"); };
    row.querySelector(".gs-save").addEventListener("click", function () {
      const name = row.dataset.unit || field("name").value.trim();
      if (!name) { status.textContent = text.name_needed; status.className = "gs-error"; return; }
      const shifts = Array.from(row.querySelectorAll("[name=shift]:checked")).map(function (c) { return Number(c.value); });
      send("PUT", "/api/units/" + encodeURIComponent(name),
           {kind: field("kind").value, station: field("station").value, shifts: shifts});
    });
    const remove = row.querySelector(".gs-remove");
    if (remove) {
      remove.addEventListener("click", function () {
        send("DELETE", "/api/units/" + encodeURIComponent(row.dataset.unit));
      });
    }
  });

  document.querySelectorAll("#gs-stations tbody tr").forEach(function (row) {
    const field = function (n) { return row.querySelector("[name=" + n + "]"); };
    row.querySelector(".gs-save").addEventListener("click", function () {
      const id = row.dataset.station || field("poi_id").value.trim();
      const lon = Number(field("lon").value), lat = Number(field("lat").value);
      if (!id || !field("name").value.trim() || !field("lon").value || !field("lat").value ||
          !isFinite(lon) || !isFinite(lat)) {
        status.textContent = text.station_needed; status.className = "gs-error"; return;
      }
      send("PUT", "/api/stations/" + encodeURIComponent(id), {name: field("name").value, lon: lon, lat: lat});
    });
  });
})();
