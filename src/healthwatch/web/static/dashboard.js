/* healthwatch dashboard: keeps the open page current without reloading it.
   Every few seconds it asks /api/v1/dashboard for the state and updates the
   statuses, conditions and timeline in place; the page works without it. */
(function () {
  "use strict";
  var body = document.body;
  var every = Math.max(1, Number(body.getAttribute("data-refresh")) || 5) * 1000;
  var live = document.getElementById("live");
  var timer = null;
  var BADGE = "[class^='st-']";

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function link(href, text) {
    var a = el("a", text);
    a.setAttribute("href", href);
    return a;
  }

  function badge(node, state, words) {
    if (!node) return;
    var cls = "st-" + state;
    if (node.className !== cls) node.className = cls;
    if (node.textContent !== words) node.textContent = words;
  }

  function setText(node, text) {
    if (node && node.textContent !== text) node.textContent = text;
  }

  function conditions(list) {
    var tbody = document.getElementById("conditions-body");
    if (!tbody) return;
    var rows = document.createDocumentFragment();
    list.forEach(function (c) {
      var tr = el("tr");
      var th = el("th", c.type);
      th.setAttribute("scope", "row");
      tr.appendChild(th);
      var td = el("td");
      td.appendChild(el("span", c.state, "st-" + c.state));
      tr.appendChild(td);
      td = el("td");
      td.appendChild(c.href ? link(c.href, c.reason) : document.createTextNode(c.reason));
      tr.appendChild(td);
      tr.appendChild(el("td", c.since));
      tr.appendChild(el("td", c.source));
      tr.appendChild(el("td", c.message, "msg"));
      rows.appendChild(tr);
    });
    tbody.replaceChildren(rows);
  }

  function timeline(list) {
    var ol = document.getElementById("timeline");
    if (!ol) return;
    var items = document.createDocumentFragment();
    list.forEach(function (t) {
      var li = el("li", null, "sev-" + t.severity);
      li.appendChild(el("time", t.at));
      li.appendChild(el("span", t.who, "who"));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(link(t.href, t.title));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", t.detail, "detail"));
      items.appendChild(li);
    });
    if (!list.length) items.appendChild(el("li", "Nothing has happened yet.", "muted"));
    ol.replaceChildren(items);
  }

  function summary(state) {
    var raised = state.conditions.filter(function (c) { return c.state === "raised"; }).length;
    badge(document.getElementById("sum-conditions"), raised ? "raised" : "clear",
      raised ? raised + " raised" : "none raised");
    var checks = document.getElementById("sum-checks");
    if (!checks) return;
    var counts = {};
    Object.keys(state.checks).forEach(function (id) {
      var s = state.checks[id].state;
      counts[s] = (counts[s] || 0) + 1;
    });
    var parts = document.createDocumentFragment();
    ["failing", "maintenance", "pending", "passing"].forEach(function (s) {
      if (!counts[s]) return;
      parts.appendChild(el("span", counts[s] + " " + s, "st-" + s));
      parts.appendChild(document.createTextNode(" "));
    });
    if (!parts.childNodes.length) parts.appendChild(document.createTextNode("none"));
    checks.replaceChildren(parts);
  }

  function check(node, c) {
    if (!node || !c) return;
    badge(node.querySelector(BADGE), c.state, c.words);
    setText(node.querySelector(".sum"), c.summary);
    var alert = node.querySelector(".al");
    if (c.alerting && !alert) node.querySelector(BADGE).after(el("span", "alert firing", "al"));
    if (!c.alerting && alert) alert.remove();
  }

  function apply(state) {
    badge(document.getElementById("overall"), state.status, state.status);
    document.querySelectorAll("[data-component]").forEach(function (node) {
      var c = state.components[node.getAttribute("data-component")];
      if (!c) return;
      badge(node.querySelector(BADGE), c.status, c.status);
      setText(node.querySelector(".msg"), c.message);
    });
    document.querySelectorAll("[data-check]").forEach(function (node) {
      check(node, state.checks[node.getAttribute("data-check")]);
    });
    // The overview's rows are named by their links (/checks/NAMESPACE/NAME) alone.
    document.querySelectorAll("table.checks th > a").forEach(function (a) {
      var id = a.getAttribute("href").split("/").slice(2).map(decodeURIComponent).join("/");
      check(a.closest("tr"), state.checks[id]);
    });
    conditions(state.conditions);
    summary(state);
    timeline(state.timeline);
    setText(document.getElementById("updated"), state.generated_at.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC"));
  }

  function show(ok) {
    if (!live) return;
    live.hidden = false;
    live.textContent = ok ? "live" : "not updating: the agent does not answer";
    live.className = ok ? "live" : "live off";
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(poll, every);
  }

  function poll() {
    if (document.hidden) {
      schedule();
      return;
    }
    fetch("/api/v1/dashboard", { cache: "no-cache", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error("HTTP " + answer.status);
        return answer.json();
      })
      .then(function (state) {
        apply(state);
        show(true);
      }, function () {
        show(false);
      })
      .then(schedule);
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) poll();
  });
  schedule();
})();
