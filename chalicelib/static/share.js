// The landing page's magnifier: a tap on a picture shows it full screen; a tap, Escape or × closes it.
(function () {
  "use strict";
  const box = document.querySelector(".lightbox");
  if (!box) return;
  const full = box.querySelector("img");
  function close() { box.hidden = true; full.removeAttribute("src"); }
  document.querySelectorAll(".zoom").forEach(function (button) {
    button.addEventListener("click", function () {
      full.src = button.dataset.full;
      box.hidden = false;
      box.querySelector(".close").focus();
    });
  });
  box.addEventListener("click", function (event) { if (event.target !== full) close(); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") close(); });
}());
