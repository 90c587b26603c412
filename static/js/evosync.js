// EvoSync's small progressive enhancements. No inline scripts anywhere (CSP: script-src 'self').
(function () {
  "use strict";
  document.documentElement.classList.add("js-enabled");
  document.querySelectorAll(".js-language-switch select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
