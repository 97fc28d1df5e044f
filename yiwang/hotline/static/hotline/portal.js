/* Citizen pages of the 12345 hotline: small additions to forms that work without JavaScript.
   - a character counter under the request text;
   - "使用当前位置": the browser's position fills the hidden lat/long fields;
   - the channel: "mobile" on a phone-sized, touch screen, otherwise the form's "web".
   The words come from data-* attributes that the templates translate. */
(function () {
  "use strict";

  function counter(box) {
    var field = document.getElementById(box.getAttribute("data-for"));
    if (!field) return;
    var max = parseInt(box.getAttribute("data-max"), 10);
    function update() {
      var n = field.value.length;
      box.textContent = box.getAttribute("data-text").replace("%(n)s", n).replace("%(max)s", max);
      box.classList.toggle("hlp-count-over", n > max);
    }
    box.hidden = false;
    field.addEventListener("input", update);
    update();
  }

  function geolocation(wrap) {
    var button = document.getElementById("hlp-use-location");
    var status = document.getElementById("hlp-geo-status");
    var lat = document.getElementById("id_lat");
    var lng = document.getElementById("id_long");
    if (!button || !lat || !lng || !("geolocation" in navigator)) return;
    wrap.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = wrap.getAttribute("data-busy");
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          lat.value = pos.coords.latitude.toFixed(6);
          lng.value = pos.coords.longitude.toFixed(6);
          status.textContent = wrap.getAttribute("data-done");
          button.disabled = false;
        },
        function () {
          lat.value = "";
          lng.value = "";
          status.textContent = wrap.getAttribute("data-failed");
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  function channel() {
    var field = document.getElementById("id_channel");
    if (!field || !window.matchMedia) return;
    if (window.matchMedia("(max-width: 40rem) and (pointer: coarse)").matches) {
      field.value = "mobile";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".hlp-count[data-for]").forEach(counter);
    var geo = document.querySelector(".hlp-geo");
    if (geo) geolocation(geo);
    channel();
  });
})();
