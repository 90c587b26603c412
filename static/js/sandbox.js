// Sandbox pages: "Copy" buttons for tokens. No inline scripts (CSP: script-src 'self').
(function () {
  "use strict";
  document.querySelectorAll(".js-copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copyTarget);
      if (!field) { return; }
      var done = function () {
        var label = button.textContent;
        button.textContent = button.dataset.copiedText || label;
        window.setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done);
      } else {
        var details = field.closest("details");
        if (details) { details.open = true; }
        field.select();
        document.execCommand("copy");
        done();
      }
    });
  });
})();
