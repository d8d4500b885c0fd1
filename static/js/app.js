/* GlassFlow UI: the few behaviours htmx does not cover (copy buttons, error toasts, the live tail). */
(function () {
  "use strict";

  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, 5000);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    var text = source ? source.textContent : "";
    var done = function () { button.textContent = "Copied"; setTimeout(function () { button.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { toast("Copy failed: select the text instead."); });
    } else {
      // Plain-http deployments have no Clipboard API: select the text so Ctrl+C works.
      var range = document.createRange(); range.selectNodeContents(source);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { toast("Press Ctrl+C to copy."); }
    }
  });

  // Errors htmx does not swap (403, 404, 5xx, network) would otherwise fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = xhr.status === 403 ? "You do not have permission to do that." :
      xhr.status === 404 ? "Not found: it may have been deleted." : "The server answered " + xhr.status + ".";
    toast(text);
  });
  document.addEventListener("htmx:sendError", function () { toast("The server could not be reached."); });

  // Live tail: an EventSource per page; pause closes it so the server stops streaming.
  function startTail(panel) {
    var list = panel.querySelector(".tail");
    var state = panel.querySelector("[data-tail-state]");
    var button = panel.querySelector("[data-tail-toggle]");
    var url = panel.getAttribute("data-tail-url");
    var max = 200;
    var source = null;

    // A readable line for the list; the full JSON stays in the tooltip.
    function summary(kind, data) {
      try {
        var doc = JSON.parse(data);
        if (kind === "raw" && doc && typeof doc === "object") {
          var service = (doc.resourceAttributes || {})["service.name"];
          var text = doc.body !== undefined ? (typeof doc.body === "string" ? doc.body : JSON.stringify(doc.body))
            : (doc.name || doc.signal || data);
          return [doc.severityText || doc.signal || "", service ? "[" + service + "]" : "", text].join(" ").trim();
        }
        if (kind === "output" && doc && doc.payload !== undefined) {
          var payload = doc.payload;
          return payload && payload.summary ? payload.summary + (payload.severity ? " (" + payload.severity + ")" : "")
            : JSON.stringify(payload);
        }
      } catch (e) { /* not JSON: show it as it came */ }
      return data;
    }

    function add(kind, data) {
      var item = document.createElement("li");
      item.className = kind;
      var when = document.createElement("span"); when.className = "muted";
      when.textContent = new Date().toTimeString().slice(0, 8);
      var label = document.createElement("span"); label.className = "kind";
      label.textContent = kind === "raw" ? "record" : "output";
      var body = document.createElement("span"); body.className = "body";
      body.textContent = summary(kind, data); body.title = data;
      item.append(when, label, body);
      list.prepend(item);
      while (list.children.length > max) list.removeChild(list.lastChild);
    }
    function open() {
      source = new EventSource(url);
      state.textContent = "connecting…";
      source.onopen = function () { state.textContent = "live"; };
      source.addEventListener("raw", function (e) { add("raw", e.data); });
      source.addEventListener("output", function (e) { add("output", e.data); });
      source.addEventListener("status", function (e) { state.textContent = e.data; });
      source.addEventListener("end", function (e) { state.textContent = e.data; close(); });
      source.onerror = function () { if (source && source.readyState === 2) { state.textContent = "disconnected"; } };
      button.textContent = "Pause";
    }
    function close() {
      if (source) { source.close(); source = null; }
      button.textContent = "Resume";
      if (state.textContent === "live" || state.textContent === "connecting…") state.textContent = "paused";
    }
    button.addEventListener("click", function () { if (source) close(); else open(); });
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-tail-url]").forEach(startTail);
  });
})();
