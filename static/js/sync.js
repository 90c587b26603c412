// The sync pages' small enhancements: category filter, live description example, run progress.
// Loaded as a file (CSP: no inline scripts); every page works without it.
(function () {
  "use strict";

  // --- a filter box over the category <select> (hides options that do not match) ---------------
  document.querySelectorAll(".js-category-filter").forEach(function (input) {
    var select = document.getElementById(input.dataset.target);
    if (!select) { return; }
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      select.querySelectorAll("optgroup").forEach(function (group) {
        var label = (group.label || "").toLowerCase();
        var any = false;
        group.querySelectorAll("option").forEach(function (option) {
          var match = !needle || label.indexOf(needle) !== -1 ||
            option.textContent.toLowerCase().indexOf(needle) !== -1;
          option.hidden = !match;
          any = any || match;
        });
        group.hidden = !any;
      });
      select.size = needle ? 8 : 0;
    });
  });

  // --- the description example, rendered by the server as the merchant types --------------------
  var form = document.getElementById("sync-settings");
  var example = document.getElementById("sync-example");
  if (form && example && form.dataset.exampleUrl) {
    var timer = null;
    var watched = ["description_template", "markup_percent", "min_price", "rounding"];
    var refresh = function () {
      var body = new FormData(form);
      fetch(form.dataset.exampleUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": body.get("csrfmiddlewaretoken") || "" }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) {
        if (!data || !data.available) { return; }
        var set = function (selector, value) {
          var node = example.querySelector(selector);
          if (node) { node.textContent = value; }
        };
        set(".js-example-product", data.product);
        set(".js-example-price", data.price);
        set(".js-example-text", data.description);
        var list = example.querySelector(".js-example-warnings");
        if (list) {
          list.replaceChildren();
          data.errors.concat(data.warnings).forEach(function (text) {
            var item = document.createElement("li");
            item.textContent = text;
            list.appendChild(item);
          });
        }
      }).catch(function () { /* the example is a convenience: keep the last one */ });
    };
    form.addEventListener("input", function (event) {
      if (watched.indexOf(event.target.name) === -1) { return; }
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  }

  // --- a running job's progress bar, polled every second until the run ends ---------------------
  var progress = document.getElementById("sync-progress");
  if (progress) {
    var bar = document.getElementById("sync-progress-bar");
    var note = document.getElementById("sync-progress-text");
    var show = function (percent) {
      // CSSOM, not a style attribute: allowed under style-src 'self'.
      bar.style.width = percent + "%";
      bar.textContent = percent + " %";
      progress.setAttribute("aria-valuenow", String(percent));
    };
    show(parseInt(progress.dataset.percent || "0", 10));
    var url = progress.dataset.progressUrl;
    if (url) {
      var poll = function () {
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (data) {
            if (!data) { setTimeout(poll, 3000); return; }
            show(data.percent);
            Object.keys(data.counts).forEach(function (name) {
              var cell = document.querySelector('#sync-job-counts [data-count="' + name + '"]');
              if (cell) { cell.textContent = data.counts[name]; }
              // The words agree with the number (plural forms come from the server).
              var label = document.querySelector('#sync-job-counts [data-count-label="' + name + '"]');
              if (label && data.labels) { label.textContent = data.labels[name]; }
            });
            if (note && data.total) { note.textContent = data.done + " / " + data.total; }
            if (data.finished) {
              setTimeout(function () { window.location.reload(); }, 500);
            } else {
              setTimeout(poll, 1000);
            }
          })
          .catch(function () { setTimeout(poll, 3000); });
      };
      setTimeout(poll, 1000);
    }
  }
})();
