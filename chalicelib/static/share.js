// The landing page's magnifier: a tap on a picture opens it in the shared viewer (static/viewer.js).
(function () {
  "use strict";
  document.querySelectorAll(".zoom").forEach(function (button) {
    button.addEventListener("click", function () {
      const picture = button.querySelector("img");
      window.PictureViewer.open(button.dataset.full, picture ? picture.alt : "", button);
    });
  });
}());
