/* The accounts page (/admin/users): find users, add one, change its role and area, disable or
 * enable it, through /api/admin/users; the area is picked from the hierarchy's tree (expand a
 * level, or find by name or code). After a change the page reloads to show the list as stored. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("gs-admin-data").textContent);
  const text = data.text;
  const status = document.getElementById("gs-users-status");
  const scoped = new Set(data.scoped_roles);
  const byCode = new Map(data.areas.map(function (a) { return [a.code, a]; }));
  const children = new Map();
  data.areas.forEach(function (a) {
    const key = a.parent_code || "";
    if (!children.has(key)) { children.set(key, []); }
    children.get(key).push(a);
  });
  const MAX_MATCHES = 40;

  function fill(message, params) {
    return message.replace(/%\((\w+)\)s/g, function (_, k) { return params[k]; });
  }

  function say(where, message, error) {
    where.textContent = message;
    where.className = error ? "gs-error" : "gs-ok";
  }

  function send(method, url, body) {
    const token = document.querySelector("meta[name=csrf-token]").content;
    return fetch(url, {
      method: method,
      headers: {"X-CSRF-Token": token, "Content-Type": "application/json"},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return {ok: r.ok, body: j}; },
                           function () { return {ok: r.ok, body: {}}; });
    });
  }

  function refusal(body) {
    return text.failed + " " + (body.message || text.unreadable);
  }

  function done(message) {
    sessionStorage.setItem("gs-users-status", message);
    window.location.reload();
  }

  /* The area picker: a tree of the hierarchy and a search box, in a fieldset. */
  function Picker(box) {
    const self = this;
    self.value = null;
    self.enabled = true;
    const chosen = document.createElement("p");
    chosen.className = "gs-picker-chosen";
    const search = document.createElement("input");
    search.type = "search";
    search.className = "gs-picker-search";
    search.placeholder = text.find_area;
    search.setAttribute("aria-label", box.querySelector("legend").textContent);
    const tree = document.createElement("ul");
    tree.className = "gs-tree";
    tree.setAttribute("role", "tree");
    const found = document.createElement("ul");
    found.className = "gs-found";
    found.hidden = true;
    box.append(chosen, search, tree, found);

    function label(a) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "gs-node";
      b.dataset.code = a.code;
      const name = document.createElement("span");
      name.textContent = a.name;
      const code = document.createElement("code");
      code.textContent = a.code;
      const level = document.createElement("small");
      level.textContent = data.levels[a.level] || a.level;
      b.append(name, " ", code, " ", level);
      b.addEventListener("click", function () { self.set(a.code); });
      return b;
    }

    function node(a) {
      const li = document.createElement("li");
      li.setAttribute("role", "treeitem");
      const kids = children.get(a.code) || [];
      if (kids.length) {
        const twisty = document.createElement("button");
        twisty.type = "button";
        twisty.className = "gs-twisty";
        twisty.textContent = "▸";
        twisty.title = text.expand;
        twisty.setAttribute("aria-expanded", "false");
        twisty.setAttribute("aria-label", text.expand + " " + a.name);
        twisty.addEventListener("click", function () { toggle(li, a, twisty); });
        li.append(twisty);
      } else {
        const gap = document.createElement("span");
        gap.className = "gs-twisty-gap";
        li.append(gap);
      }
      li.append(label(a));
      return li;
    }

    function toggle(li, a, twisty) {
      const open = twisty.getAttribute("aria-expanded") === "true";
      let sub = li.querySelector(":scope > ul");
      if (open) {
        sub.hidden = true;
      } else {
        if (!sub) {
          sub = document.createElement("ul");
          sub.setAttribute("role", "group");
          (children.get(a.code) || []).forEach(function (k) { sub.append(node(k)); });
          li.append(sub);
        }
        sub.hidden = false;
      }
      twisty.setAttribute("aria-expanded", open ? "false" : "true");
      twisty.textContent = open ? "▸" : "▾";
      twisty.title = open ? text.expand : text.collapse;
      mark();
    }

    function mark() {
      box.querySelectorAll(".gs-node").forEach(function (b) {
        b.classList.toggle("gs-picked", b.dataset.code === self.value);
        b.setAttribute("aria-pressed", b.dataset.code === self.value ? "true" : "false");
      });
    }

    function path(a) {
      const names = [];
      let p = a.parent_code && byCode.get(a.parent_code);
      while (p) { names.unshift(p.name); p = p.parent_code && byCode.get(p.parent_code); }
      return names.join(" › ");
    }

    search.addEventListener("input", function () {
      const q = search.value.trim().toLowerCase();
      found.replaceChildren();
      tree.hidden = q !== "";
      found.hidden = q === "";
      if (!q) { return; }
      const hits = data.areas.filter(function (a) {
        return a.name.toLowerCase().includes(q) || a.code.toLowerCase().includes(q);
      });
      hits.slice(0, MAX_MATCHES).forEach(function (a) {
        const li = document.createElement("li");
        li.append(label(a));
        const where = document.createElement("span");
        where.className = "gs-muted gs-path";
        where.textContent = path(a);
        li.append(where);
        found.append(li);
      });
      if (!hits.length) {
        const li = document.createElement("li");
        li.className = "gs-muted";
        li.textContent = text.no_match;
        found.append(li);
      } else if (hits.length > MAX_MATCHES) {
        const li = document.createElement("li");
        li.className = "gs-muted";
        li.textContent = fill(text.more_matches, {n: hits.length - MAX_MATCHES});
        found.append(li);
      }
      mark();
    });

    (children.get("") || []).forEach(function (a) { tree.append(node(a)); });

    self.set = function (code) {
      self.value = code;
      const a = code && byCode.get(code);
      chosen.replaceChildren();
      if (!self.enabled) {
        chosen.textContent = text.no_area;
      } else if (a) {
        const strong = document.createElement("strong");
        strong.textContent = a.name;
        const c = document.createElement("code");
        c.textContent = a.code;
        chosen.append(text.chosen + " ", strong, " ", c);
      } else {
        chosen.textContent = text.none_chosen;
      }
      chosen.classList.toggle("gs-muted", !a);
      mark();
    };

    self.enable = function (on) {
      self.enabled = on;
      box.disabled = !on;
      box.classList.toggle("gs-picker-off", !on);
      if (!on) { self.value = null; }
      self.set(self.value);
    };

    /* Open the tree down to the picked area, so it shows where it lies. */
    self.reveal = function () {
      const a = self.value && byCode.get(self.value);
      if (!a) { return; }
      const chain = [];
      let p = a.parent_code && byCode.get(a.parent_code);
      while (p) { chain.unshift(p.code); p = p.parent_code && byCode.get(p.parent_code); }
      chain.forEach(function (code) {
        const b = tree.querySelector('.gs-node[data-code="' + CSS.escape(code) + '"]');
        const twisty = b && b.parentElement.querySelector(":scope > .gs-twisty");
        if (twisty && twisty.getAttribute("aria-expanded") !== "true") {
          toggle(b.parentElement, byCode.get(code), twisty);
        }
      });
    };
    self.set(null);
  }

  /* The list's filters: words in any column, a role, a state. */
  const rows = Array.from(document.querySelectorAll("#gs-users tbody tr"));
  const search = document.getElementById("gs-user-search");
  const roleFilter = document.getElementById("gs-role-filter");
  const stateFilter = document.getElementById("gs-state-filter");
  const count = document.getElementById("gs-users-count");
  function filter() {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    rows.forEach(function (row) {
      const ok = (!q || row.textContent.toLowerCase().includes(q)) &&
        (!roleFilter.value || row.dataset.role === roleFilter.value) &&
        (!stateFilter.value || row.dataset.state === stateFilter.value);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = fill(text.shown, {shown: shown, all: rows.length});
  }
  [search, roleFilter, stateFilter].forEach(function (e) {
    e.addEventListener("input", filter);
    e.addEventListener("change", filter);
  });
  filter();

  /* Adding a user. */
  const addForm = document.getElementById("gs-add-user");
  const addRole = document.getElementById("gs-new-role");
  const addPicker = new Picker(document.getElementById("gs-new-area"));
  function roleChanged(select, picker) {
    picker.enable(scoped.has(select.value));
  }
  addRole.addEventListener("change", function () { roleChanged(addRole, addPicker); });
  roleChanged(addRole, addPicker);
  addForm.addEventListener("submit", function (e) {
    e.preventDefault();
    const username = document.getElementById("gs-new-username").value.trim();
    const password = document.getElementById("gs-new-password").value;
    if (!username) { say(status, text.username_needed, true); return; }
    if (!password) { say(status, text.password_needed, true); return; }
    if (scoped.has(addRole.value) && !addPicker.value) { say(status, text.area_needed, true); return; }
    send("POST", "/api/admin/users", {
      username: username,
      display_name: document.getElementById("gs-new-display").value.trim() || null,
      role: addRole.value,
      password: password,
      scope: addPicker.value
    }).then(function (r) {
      if (r.ok) { done(fill(text.added, {name: r.body.username})); } else { say(status, refusal(r.body), true); }
    });
  });

  /* Changing one: role, display name and area in a dialog. */
  const dialog = document.getElementById("gs-edit-user");
  const editRole = document.getElementById("gs-edit-role");
  const editStatus = document.getElementById("gs-edit-status");
  const editPicker = new Picker(document.getElementById("gs-edit-area"));
  let editing = null;
  editRole.addEventListener("change", function () { roleChanged(editRole, editPicker); });
  document.getElementById("gs-edit-cancel").addEventListener("click", function () { dialog.close(); });
  document.getElementById("gs-edit-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (scoped.has(editRole.value) && !editPicker.value) { say(editStatus, text.area_needed, true); return; }
    send("PATCH", "/api/admin/users/" + editing.dataset.id, {
      role: editRole.value,
      scope: editPicker.value,
      display_name: document.getElementById("gs-edit-display").value.trim() || null
    }).then(function (r) {
      if (r.ok) { done(text.saved); } else { say(editStatus, refusal(r.body), true); }
    });
  });

  rows.forEach(function (row) {
    row.querySelector(".gs-edit").addEventListener("click", function () {
      editing = row;
      document.getElementById("gs-edit-title").textContent = row.dataset.username;
      document.getElementById("gs-edit-display").value = row.dataset.display;
      editRole.value = row.dataset.role;
      editStatus.textContent = "";
      roleChanged(editRole, editPicker);
      editPicker.set(row.dataset.scope || null);
      editPicker.reveal();
      dialog.showModal();
    });
    const disable = row.querySelector(".gs-disable");
    if (disable) {
      disable.addEventListener("click", function () {
        if (!window.confirm(fill(text.confirm_disable, {name: row.dataset.username}))) { return; }
        send("PATCH", "/api/admin/users/" + row.dataset.id, {disabled: true}).then(function (r) {
          if (r.ok) { done(text.saved); } else { say(status, refusal(r.body), true); }
        });
      });
    }
    const enable = row.querySelector(".gs-enable");
    if (enable) {
      enable.addEventListener("click", function () {
        send("PATCH", "/api/admin/users/" + row.dataset.id, {disabled: false}).then(function (r) {
          if (r.ok) { done(text.saved); } else { say(status, refusal(r.body), true); }
        });
      });
    }
  });

  const kept = sessionStorage.getItem("gs-users-status");
  if (kept) {
    sessionStorage.removeItem("gs-users-status");
    say(status, kept, false);
  }
})();
