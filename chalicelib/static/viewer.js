// The one picture viewer of the patient's pages and the chat (templates/_viewer.html holds its markup).
//
// A modal <dialog>: the rest of the page is inert while it is open, Tab cycles inside it, Escape closes it
// and focus goes back to what opened it. The picture is laid out at its native size and shown through one
// transform (translate, then scale), so zoom runs from "fit the screen" up to twice its native resolution
// with no blur from a CSS box. Pinch and drag come as pointer events (touch-action: none on the stage),
// the wheel zooms at the cursor, and +, −, 0 and the arrow keys do the same from the keyboard.
"use strict";

window.PictureViewer = (function () {
  const MAX_OVER_NATIVE = 2;
  const STEP = 1.25;
  const PAN_SHARE = 0.1;
  const dialog = document.getElementById("viewer");
  if (!dialog) {
    return { open: function () {} };
  }
  const stage = dialog.querySelector(".viewer-stage");
  const image = dialog.querySelector(".viewer-image");
  const level = dialog.querySelector(".viewer-level");
  const pointers = new Map();
  let scale = 1;
  let x = 0;
  let y = 0;
  let opener = null;
  let pinch = null;

  function fit() {
    if (!image.naturalWidth) {
      return 1;
    }
    return Math.min(stage.clientWidth / image.naturalWidth, stage.clientHeight / image.naturalHeight);
  }

  function limits() {
    const least = fit();
    return { least: Math.min(least, 1), most: Math.max(least, MAX_OVER_NATIVE) };
  }

  // Keep the picture on screen: centred along a side it does not fill, edge to edge along one it does.
  function clamp() {
    const width = image.naturalWidth * scale;
    const height = image.naturalHeight * scale;
    const room = { w: stage.clientWidth, h: stage.clientHeight };
    x = width <= room.w ? (room.w - width) / 2 : Math.min(0, Math.max(room.w - width, x));
    y = height <= room.h ? (room.h - height) / 2 : Math.min(0, Math.max(room.h - height, y));
  }

  function draw() {
    clamp();
    image.style.transform = "translate(" + x + "px, " + y + "px) scale(" + scale + ")";
    level.textContent = Math.round(scale * 100) + " %";
    dialog.dataset.zoom = scale.toFixed(4);
  }

  function zoomAt(wanted, cx, cy) {
    const bounds = limits();
    const next = Math.min(bounds.most, Math.max(bounds.least, wanted));
    x = cx - ((cx - x) * next) / scale;
    y = cy - ((cy - y) * next) / scale;
    scale = next;
    draw();
  }

  function zoomBy(factor) {
    zoomAt(scale * factor, stage.clientWidth / 2, stage.clientHeight / 2);
  }

  function reset() {
    scale = fit();
    draw();
  }

  function pan(dx, dy) {
    x += dx;
    y += dy;
    draw();
  }

  function local(event) {
    const box = stage.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  function pinchOf() {
    const [a, b] = [...pointers.values()];
    return { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  }

  stage.addEventListener("pointerdown", function (event) {
    stage.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, local(event));
    pinch = pointers.size === 2 ? { start: pinchOf(), scale: scale } : null;
  });
  stage.addEventListener("pointermove", function (event) {
    const before = pointers.get(event.pointerId);
    if (!before) {
      return;
    }
    const now = local(event);
    pointers.set(event.pointerId, now);
    if (pointers.size === 2 && pinch) {
      const current = pinchOf();
      zoomAt((pinch.scale * current.distance) / pinch.start.distance, current.x, current.y);
    } else if (pointers.size === 1) {
      pan(now.x - before.x, now.y - before.y);
    }
  });
  function lift(event) {
    pointers.delete(event.pointerId);
    pinch = null;
  }
  stage.addEventListener("pointerup", lift);
  stage.addEventListener("pointercancel", lift);
  stage.addEventListener("wheel", function (event) {
    event.preventDefault();
    const at = local(event);
    zoomAt(scale * Math.exp(-event.deltaY * 0.002), at.x, at.y);
  }, { passive: false });
  stage.addEventListener("dblclick", function (event) {
    const at = local(event);
    zoomAt(scale < 1 ? 1 : fit(), at.x, at.y);
  });

  const keys = {
    "+": function () { zoomBy(STEP); },
    "=": function () { zoomBy(STEP); },
    "-": function () { zoomBy(1 / STEP); },
    "−": function () { zoomBy(1 / STEP); },
    "0": reset,
    ArrowLeft: function () { pan(stage.clientWidth * PAN_SHARE, 0); },
    ArrowRight: function () { pan(-stage.clientWidth * PAN_SHARE, 0); },
    ArrowUp: function () { pan(0, stage.clientHeight * PAN_SHARE); },
    ArrowDown: function () { pan(0, -stage.clientHeight * PAN_SHARE); },
  };
  dialog.addEventListener("keydown", function (event) {
    if (event.key === "Tab") {
      const controls = [...dialog.querySelectorAll("button")];
      const first = controls[0];
      const last = controls[controls.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
      return;
    }
    const action = keys[event.key];
    if (action && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      action();
    }
  });
  dialog.querySelector("[data-viewer='in']").addEventListener("click", function () { zoomBy(STEP); });
  dialog.querySelector("[data-viewer='out']").addEventListener("click", function () { zoomBy(1 / STEP); });
  dialog.querySelector("[data-viewer='fit']").addEventListener("click", reset);
  dialog.querySelector("[data-viewer='close']").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("close", function () {
    pointers.clear();
    image.removeAttribute("src");
    if (opener && opener.isConnected) {
      opener.focus();
    }
    opener = null;
  });
  image.addEventListener("load", reset);
  window.addEventListener("resize", function () {
    if (dialog.open) {
      reset();
    }
  });

  return {
    /** Show the picture at ``url`` (described by ``alt``); focus returns to ``from`` on close. */
    open: function (url, alt, from) {
      opener = from || document.activeElement;
      image.alt = alt || "";
      scale = 1;
      image.src = url;
      dialog.showModal();
      dialog.querySelector("[data-viewer='close']").focus();
      if (image.complete && image.naturalWidth) {
        reset();
      }
    },
  };
}());
