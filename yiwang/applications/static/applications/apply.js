// Shows only the materials of the chosen 办理情形 (without JavaScript all are shown, each
// labelled with the situations it applies to; the service ignores the others).
(function () {
  "use strict";
  function update() {
    var chosen = document.querySelector('input[name="situation"]:checked');
    var rows = document.querySelectorAll(".material[data-situations]");
    rows.forEach(function (row) {
      var codes = row.getAttribute("data-situations").split(" ").filter(Boolean);
      row.hidden = Boolean(chosen) && codes.length > 0 && codes.indexOf(chosen.value) === -1;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.name === "situation") {
      update();
    }
  });
  document.addEventListener("DOMContentLoaded", update);
})();
