// Self-service terminal: one step per screen (without JavaScript the steps stand one below the
// other and the page still works), the phone field only when "another number" is chosen, the
// receipt print button, and the sign-out after data-idle-seconds without a touch.
(function () {
  "use strict";

  function setUpSteps(form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll(".step"));
    var nav = form.querySelector("[data-step-nav]");
    var back = form.querySelector("[data-step-back]");
    var next = form.querySelector("[data-step-next]");
    var progress = form.querySelector("#step-progress");
    if (steps.length < 2 || !nav) {
      return;
    }
    var current = 0;
    function show(index, focus) {
      current = Math.max(0, Math.min(index, steps.length - 1));
      steps.forEach(function (step, i) {
        step.hidden = i !== current;
      });
      back.hidden = current === 0;
      next.hidden = current === steps.length - 1;
      progress.hidden = false;
      progress.textContent = progress.getAttribute("data-template")
        .replace("{n}", String(current + 1))
        .replace("{total}", String(steps.length));
      if (focus) {
        var heading = steps[current].querySelector("h2, legend");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
        window.scrollTo(0, 0);
      }
    }
    form.classList.add("stepping");
    nav.hidden = false;
    back.addEventListener("click", function () {
      show(current - 1, true);
    });
    next.addEventListener("click", function () {
      show(current + 1, true);
    });
    // After a refused submission, start at the first step with a problem.
    var first = steps.findIndex(function (step) {
      return step.querySelector(".field-error, .has-error");
    });
    show(first === -1 ? 0 : first, false);
    // A link of the error summary opens the step of its field.
    form.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest(".form-errors a[href^='#']");
      if (!link) {
        return;
      }
      var target = document.getElementById(link.getAttribute("href").slice(1));
      var index = target ? steps.findIndex(function (s) { return s.contains(target); }) : -1;
      if (index !== -1) {
        show(index, false);
      }
    });
  }

  function setUpPhone(form) {
    var other = form.querySelector("[data-other-phone]");
    var choices = form.querySelectorAll('input[name="phone_choice"][type="radio"]');
    if (!other || !choices.length) {
      return;
    }
    function update() {
      var chosen = form.querySelector('input[name="phone_choice"]:checked');
      other.hidden = !chosen || chosen.value !== "other";
    }
    choices.forEach(function (c) {
      c.addEventListener("change", update);
    });
    update();
  }

  function setUpIdle() {
    var seconds = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
    var logout = document.getElementById("terminal-logout");
    var countdown = document.getElementById("idle-countdown");
    if (!seconds || !logout) {
      return;
    }
    var left = seconds;
    function reset() {
      left = seconds;
      if (countdown) {
        countdown.textContent = "";
      }
    }
    ["click", "keydown", "touchstart", "pointerdown", "scroll"].forEach(function (name) {
      document.addEventListener(name, reset, { passive: true });
    });
    var timer = window.setInterval(function () {
      left -= 1;
      if (left <= 10 && left > 0 && countdown) {
        countdown.textContent = countdown.getAttribute("data-template").replace("{s}", String(left));
      }
      if (left <= 0) {
        window.clearInterval(timer); // one sign-out: a second post would find no session
        logout.submit();
      }
    }, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-steps]").forEach(function (form) {
      setUpSteps(form);
      setUpPhone(form);
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        window.print();
      });
    });
    setUpIdle();
  });
})();
