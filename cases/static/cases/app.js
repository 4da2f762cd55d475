// Outcome choices follow the chosen event type (the server checks them again); filters fold away
// on phones. A few lines, no framework: everything works without them.
(function () {
  "use strict";
  function wire(typeSelect) {
    var form = typeSelect.form;
    var outcome = form && form.querySelector("select[name='outcome']");
    if (!outcome) { return; }
    var wrapper = outcome.closest(".field");
    function update() {
      var chosen = typeSelect.options[typeSelect.selectedIndex];
      var allowed = (chosen && chosen.getAttribute("data-outcomes") || "").split(" ").filter(Boolean);
      Array.prototype.forEach.call(outcome.options, function (option) {
        var usable = option.value === "" || allowed.indexOf(option.value) !== -1;
        option.hidden = !usable;
        option.disabled = !usable;
        if (!usable && option.selected) { outcome.value = ""; }
      });
      if (wrapper) { wrapper.hidden = allowed.length === 0 && outcome.value === ""; }
      outcome.required = allowed.length > 0;
    }
    typeSelect.addEventListener("change", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-outcome-filter]").forEach(wire);
    // On a phone, filters nobody has set fold away under their summary.
    if (window.matchMedia("(max-width: 40rem)").matches) {
      document.querySelectorAll("details[data-close-on-phone]:not([data-active])")
        .forEach(function (details) { details.open = false; });
    }
  });
})();
