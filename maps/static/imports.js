/* The import page (/import): upload a file (its progress drawn as it goes), show its preview
 * and let the officer change which column holds what, start the import as a background job
 * (/api/import/jobs), poll it for the progress bar, then draw its report: counts, every
 * rejected row with its reason, the rejected rows as a file, unknown types as synonyms. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("gs-import-text").textContent);
  const text = data.text;
  const $ = function (id) { return document.getElementById(id); };
  const status = $("gs-import-status");
  const sections = {file: $("gs-import-file"), preview: $("gs-import-preview"),
                    run: $("gs-import-run"), report: $("gs-import-report")};
  let upload = null;

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }).replace("%%", "%");
  }
  function token() { return document.querySelector("meta[name=csrf-token]").content; }
  function fail(detail) {
    status.textContent = text.failed + " " + (typeof detail === "string" ? detail : JSON.stringify(detail));
    status.className = "gs-error";
  }
  function show(step) {
    Object.keys(sections).forEach(function (k) { sections[k].hidden = k !== step && !(step === "preview" && k === "file"); });
    document.querySelectorAll("#gs-steps li").forEach(function (li) {
      li.classList.toggle("gs-step-on", li.dataset.step === step);
    });
  }
  function cell(row, value, tag) {
    const td = document.createElement(tag || "td");
    td.textContent = value === null || value === undefined ? "" : String(value);
    row.appendChild(td);
    return td;
  }
  function answer(r) {
    return r.json().then(function (j) { if (!r.ok) { throw j.detail; } return j; });
  }

  function kindChanged() {
    const boundaries = $("gs-kind").value === "boundaries";
    document.querySelectorAll(".gs-for-boundaries").forEach(function (e) { e.hidden = !boundaries; });
  }
  $("gs-kind").addEventListener("change", kindChanged);
  kindChanged();

  $("gs-upload-form").addEventListener("submit", function (event) {
    event.preventDefault();
    const file = $("gs-file").files[0];
    if (!file) { fail(text.no_file); return; }
    const form = new FormData();
    form.append("kind", $("gs-kind").value);
    form.append("crs", $("gs-crs").value);
    form.append("source", $("gs-source").value.trim());
    if ($("gs-kind").value === "boundaries") { form.append("level", $("gs-level").value); }
    form.append("file", file);
    const bar = $("gs-upload-progress");
    bar.hidden = false; bar.value = 0;
    status.className = ""; status.textContent = say(text.uploading, {percent: 0});
    $("gs-upload").disabled = true;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/import/uploads");
    xhr.setRequestHeader("X-CSRF-Token", token());
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = e.loaded / e.total;
        status.textContent = e.loaded < e.total
          ? say(text.uploading, {percent: Math.round(100 * e.loaded / e.total)}) : text.reading;
      }
    });
    xhr.addEventListener("loadend", function () {
      $("gs-upload").disabled = false;
      bar.hidden = true;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {detail: xhr.statusText || String(xhr.status)}; }
      if (xhr.status !== 201) { fail(body.detail); return; }
      status.textContent = "";
      preview(body);
    });
    xhr.send(form);
  });

  function preview(p) {
    upload = p;
    $("gs-preview-name").textContent = p.name;
    $("gs-preview-format").textContent = p.format;
    $("gs-preview-encoding").textContent = p.encoding || "—";
    $("gs-preview-crs").textContent = p.crs;
    $("gs-preview-source").textContent = p.source;
    const mapping = $("gs-mapping").querySelector("tbody");
    mapping.textContent = "";
    $("gs-mapping-box").hidden = p.guesses.length === 0;
    p.guesses.forEach(function (guess) {
      const field = guess.field;
      const tr = document.createElement("tr");
      tr.dataset.field = field;
      const name = cell(tr, data.fields[field] || field, "th");
      if (guess.required) {
        const mark = document.createElement("small");
        mark.className = "gs-required";
        mark.textContent = " " + text.required;
        name.appendChild(mark);
      }
      const select = document.createElement("select");
      select.name = field;
      select.setAttribute("aria-label", data.fields[field] || field);
      const choices = [null].concat(p.headers.map(function (h) { return [h]; }));
      if (guess.columns.length > 1) { choices.push(guess.columns); }
      choices.forEach(function (columns) {
        const option = document.createElement("option");
        option.value = JSON.stringify(columns === null ? null : columns.length === 1 ? columns[0] : columns);
        option.textContent = columns === null ? text.no_column : columns.length === 1 ? columns[0]
          : say(text.date_and_time, {date: columns[0], time: columns[1]});
        option.selected = JSON.stringify(columns || []) === JSON.stringify(guess.columns);
        select.appendChild(option);
      });
      const why = document.createElement("td");
      why.className = "gs-basis gs-basis-" + guess.basis;
      why.textContent = data.basis[guess.basis] || guess.basis;
      select.addEventListener("change", function () {
        why.textContent = data.basis.explicit;
        why.className = "gs-basis gs-basis-explicit";
        tr.classList.add("gs-chosen");
      });
      cell(tr, "").appendChild(select);
      tr.appendChild(why);
      mapping.appendChild(tr);
    });
    const head = $("gs-preview-rows").querySelector("thead");
    const rows = $("gs-preview-rows").querySelector("tbody");
    head.textContent = ""; rows.textContent = "";
    const hr = document.createElement("tr");
    p.headers.forEach(function (h) { cell(hr, h, "th"); });
    head.appendChild(hr);
    p.rows.forEach(function (r) {
      const tr = document.createElement("tr");
      r.forEach(function (v) { cell(tr, v); });
      rows.appendChild(tr);
    });
    show("preview");
    sections.preview.scrollIntoView({block: "start"});
  }

  $("gs-restart").addEventListener("click", function () { upload = null; show("file"); });
  $("gs-again").addEventListener("click", function () {
    upload = null; $("gs-file").value = ""; status.textContent = ""; show("file");
  });

  $("gs-run").addEventListener("click", function () {
    const mapping = {};
    document.querySelectorAll("#gs-mapping tbody tr").forEach(function (tr) {
      mapping[tr.dataset.field] = JSON.parse(tr.querySelector("select").value);
    });
    const body = {upload: upload.upload, kind: upload.kind, mapping: mapping,
                  source: upload.source, crs: $("gs-crs").value || null,
                  level: upload.kind === "boundaries" ? $("gs-level").value : null};
    $("gs-run").disabled = true;
    fetch("/api/import/jobs", {method: "POST", body: JSON.stringify(body),
          headers: {"Content-Type": "application/json", "X-CSRF-Token": token()}})
      .then(answer)
      .then(function (job) { show("run"); poll(job); })
      .catch(fail)
      .finally(function () { $("gs-run").disabled = false; });
  });

  function poll(job) {
    $("gs-import-progress").value = job.progress;
    $("gs-import-stage").textContent = job.state === "queued" ? text.queued
      : say(text.running, {percent: Math.round(100 * job.progress)});
    if (job.state === "done") { report(job); return; }
    if (job.state === "failed") { show("preview"); fail(job.error); return; }
    if (job.state === "cancelled") { show("file"); fail(text.cancelled); return; }
    setTimeout(function () {
      fetch("/api/import/jobs/" + encodeURIComponent(job.id)).then(answer).then(poll).catch(fail);
    }, 400);
  }

  function report(job) {
    const r = job.report;
    const counts = $("gs-counts");
    counts.textContent = "";
    [["loaded", r.loaded], ["inserted", r.inserted], ["updated", r.updated],
     ["unchanged", r.unchanged], ["rejected", r.rejected.length]].forEach(function (pair) {
      const box = document.createElement("div");
      box.className = "gs-count gs-count-" + pair[0];
      box.dataset.count = pair[0];
      const n = document.createElement("strong");
      n.textContent = pair[1];
      const label = document.createElement("span");
      label.textContent = data.counts[pair[0]];
      box.appendChild(n); box.appendChild(label);
      counts.appendChild(box);
    });
    status.className = "gs-ok";
    status.textContent = say(text.done, {seconds: job.elapsed_s});
    const rejected = $("gs-rejected").querySelector("tbody");
    rejected.textContent = "";
    r.rejected.forEach(function (p) {
      const tr = document.createElement("tr");
      cell(tr, p.row); cell(tr, p.ident); cell(tr, p.reason_text);
      rejected.appendChild(tr);
    });
    $("gs-rejected-box").hidden = r.rejected.length === 0;
    $("gs-rejected-title").textContent = say(data.counts.rejected_rows, {n: r.rejected.length});
    const link = $("gs-rejected-file");
    link.hidden = !job.run_id;
    if (job.run_id) { link.href = "/api/imports/" + job.run_id + "/rejected"; }
    const warnings = $("gs-warnings");
    warnings.textContent = "";
    r.warnings.forEach(function (p) {
      const li = document.createElement("li");
      li.textContent = (p.row ? "#" + p.row + " " : "") + p.reason_text;
      warnings.appendChild(li);
    });
    $("gs-warnings-box").hidden = r.warnings.length === 0;
    synonyms((r.candidates || []).filter(function (c) { return c.field === "type"; }));
    if (job.run_id) { $("gs-run-link").href = "/import/history/" + job.run_id; }
    show("report");
  }

  function synonyms(candidates) {
    const box = $("gs-synonyms");
    const body = box.querySelector("tbody");
    body.textContent = "";
    box.hidden = candidates.length === 0;
    candidates.forEach(function (candidate) {
      const word = candidate.value;
      const tr = document.createElement("tr");
      tr.dataset.word = word;
      cell(tr, word, "th");
      cell(tr, say(text.rows_of, {n: candidate.count, rows: candidate.rows.join(", ")})).className = "gs-hint";
      const select = document.createElement("select");
      select.setAttribute("aria-label", word);
      data.types.forEach(function (pair) {
        const option = document.createElement("option");
        option.value = pair[0]; option.textContent = pair[1];
        select.appendChild(option);
      });
      cell(tr, "").appendChild(select);
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text.add_synonym;
      button.className = "gs-add-synonym";
      button.addEventListener("click", function () {
        fetch("/api/synonyms/" + encodeURIComponent(word), {method: "PUT",
              body: JSON.stringify({code: select.value}),
              headers: {"Content-Type": "application/json", "X-CSRF-Token": token()}})
          .then(answer)
          .then(function () {
            button.disabled = true; select.disabled = true;
            status.className = "gs-ok";
            status.textContent = say(text.synonym_added, {word: word, type: select.selectedOptions[0].textContent});
          })
          .catch(fail);
      });
      cell(tr, "").appendChild(button);
      body.appendChild(tr);
    });
  }
})();
