// medic's console script: keeps the pages current without a reload and shows chart
// values under the pointer. Plain JavaScript served by medic itself (no CDN, no
// library). Every fragment it inserts was rendered and escaped by medic's server;
// text from the watched system is never turned into markup here.
(function () {
  "use strict";

  var LIST_EVERY_MS = 3000;
  var INCIDENT_EVERY_MS = 1500;
  var CHARTS_EVERY_MS = 6000;

  function getJSON(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    });
  }

  // --- charts: the value under the pointer or the arrow keys ----------------------
  function bindChart(fig) {
    if (fig.dataset.bound) return;
    fig.dataset.bound = "1";
    var points;
    try {
      points = JSON.parse(fig.dataset.points || "[]");
    } catch (e) {
      return;
    }
    var svg = fig.querySelector("svg.chart");
    var cursor = svg && svg.querySelector("g.cursor");
    var tip = fig.querySelector("output.tip");
    if (!svg || !cursor || !tip || !points.length) return;
    var line = cursor.querySelector("line");
    var dot = cursor.querySelector("circle");
    var index = points.length - 1;
    var width = svg.viewBox.baseVal.width || 720;

    function show(i) {
      index = Math.max(0, Math.min(points.length - 1, i));
      var p = points[index];
      line.setAttribute("x1", p[0]);
      line.setAttribute("x2", p[0]);
      dot.setAttribute("cx", p[0]);
      dot.setAttribute("cy", p[1]);
      cursor.setAttribute("visibility", "visible");
      tip.textContent = p[3] + " at " + p[2] + " UTC";
      var left = (p[0] / width) * svg.getBoundingClientRect().width;
      tip.style.left = Math.max(0, left - (left > fig.clientWidth / 2 ? tip.offsetWidth + 8 : -8)) + "px";
      tip.classList.add("on");
    }
    function hide() {
      cursor.setAttribute("visibility", "hidden");
      tip.classList.remove("on");
    }
    function nearest(x) {
      var lo = 0, hi = points.length - 1;
      while (hi - lo > 1) {
        var mid = (lo + hi) >> 1;
        if (points[mid][0] < x) lo = mid; else hi = mid;
      }
      return Math.abs(points[lo][0] - x) <= Math.abs(points[hi][0] - x) ? lo : hi;
    }
    svg.addEventListener("pointermove", function (ev) {
      var ctm = svg.getScreenCTM();
      if (!ctm) return;
      var pt = svg.createSVGPoint();
      pt.x = ev.clientX;
      pt.y = ev.clientY;
      show(nearest(pt.matrixTransform(ctm.inverse()).x));
    });
    svg.addEventListener("pointerleave", hide);
    fig.addEventListener("blur", hide);
    fig.addEventListener("focus", function () { show(index); });
    fig.addEventListener("keydown", function (ev) {
      var step = ev.shiftKey ? 10 : 1;
      if (ev.key === "ArrowLeft") show(index - step);
      else if (ev.key === "ArrowRight") show(index + step);
      else if (ev.key === "Home") show(0);
      else if (ev.key === "End") show(points.length - 1);
      else if (ev.key === "Escape") hide();
      else return;
      ev.preventDefault();
    });
  }

  // A chart redrawn under a resting pointer keeps showing the value under it.
  var lastPointer = null;
  document.addEventListener("pointermove", function (ev) {
    lastPointer = { x: ev.clientX, y: ev.clientY };
  });
  function rehover(box) {
    if (!lastPointer) return;
    var el = document.elementFromPoint(lastPointer.x, lastPointer.y);
    var svg = el && el.closest ? el.closest("svg.chart") : null;
    if (!svg || !box.contains(svg)) return;
    svg.dispatchEvent(new PointerEvent("pointermove", {
      clientX: lastPointer.x, clientY: lastPointer.y, bubbles: true
    }));
  }

  function bindCharts(root) {
    Array.prototype.forEach.call(root.querySelectorAll("figure.panel"), bindChart);
  }

  // --- the incident page: swap the fragments that changed ------------------------
  function followIncident(root) {
    var id = root.dataset.incident;
    var version = root.dataset.version;
    var chartsAt = Date.now();
    var shown = {};

    function swap(name, html) {
      var box = root.querySelector('[data-live="' + name + '"]');
      if (!box || shown[name] === html) return;
      var focused = document.activeElement;
      if (focused && box.contains(focused) && focused.tagName === "TEXTAREA") return;
      shown[name] = html;
      box.innerHTML = html;
      if (name === "charts") {
        bindCharts(box);
        rehover(box);
      }
    }

    function tick() {
      var wantCharts = Date.now() - chartsAt > CHARTS_EVERY_MS;
      getJSON("/ui/incidents/" + encodeURIComponent(id) + "/live" + (wantCharts ? "?charts=1" : ""))
        .then(function (data) {
          var changed = data.version !== version;
          version = data.version;
          root.dataset.version = version;
          root.dataset.state = data.state;
          Object.keys(data.sections).forEach(function (name) { swap(name, data.sections[name]); });
          if (data.charts !== undefined) {
            chartsAt = Date.now();
            swap("charts", data.charts);
          } else if (changed) {
            chartsAt = 0; // the state moved: redraw the charts on the next tick
          }
          var again = data.terminal && !changed ? INCIDENT_EVERY_MS * 4 : INCIDENT_EVERY_MS;
          setTimeout(tick, again);
        })
        .catch(function () { setTimeout(tick, INCIDENT_EVERY_MS * 4); });
    }
    setTimeout(tick, INCIDENT_EVERY_MS);
  }

  // --- the incident list: rows as they change, filters applied as you type --------
  function followList(table) {
    var body = table.querySelector('[data-live="rows"]');
    var note = document.getElementById("list-note");
    var form = document.getElementById("filters");
    var last = body.innerHTML;
    var pending = null;

    function query() {
      var params = new URLSearchParams(new FormData(form));
      Array.from(params.keys()).forEach(function (k) { if (!params.get(k)) params.delete(k); });
      return params.toString();
    }
    function refresh() {
      var q = query();
      return getJSON("/ui/incidents.json" + (q ? "?" + q : "")).then(function (data) {
        if (data.rows !== last) {
          last = data.rows;
          body.innerHTML = data.rows;
        }
        if (note) note.textContent = data.note + " · updates live";
        history.replaceState(null, "", "/ui" + (q ? "?" + q : ""));
      });
    }
    function loop() {
      refresh().catch(function () {}).then(function () { setTimeout(loop, LIST_EVERY_MS); });
    }
    if (form) {
      form.addEventListener("change", function () { refresh().catch(function () {}); });
      form.addEventListener("input", function () {
        clearTimeout(pending);
        pending = setTimeout(function () { refresh().catch(function () {}); }, 250);
      });
    }
    setTimeout(loop, LIST_EVERY_MS);
  }

  function start() {
    bindCharts(document);
    var incident = document.getElementById("incident");
    if (incident) followIncident(incident);
    var list = document.getElementById("incidents");
    if (list) followList(list);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
