// The Studies section: choosing images (the whole study, a series, single images), checking contacts as
// they are typed, and a send button that sends once. The forms work without this script too.
"use strict";

(function () {
  const main = document.querySelector("main");
  const base = main ? main.dataset.base || "" : "";
  const csrf = main ? main.dataset.csrf || "" : "";

  // ---- choosing images
  const form = document.getElementById("send-form");
  if (form) {
    const all = form.querySelector('input[data-select="study"]');
    const seriesBoxes = Array.from(form.querySelectorAll('input[data-select="series"]'));
    const images = Array.from(form.querySelectorAll('input[name="instance"]'));
    const imagesOf = (n) => images.filter((box) => box.dataset.series === n);

    const reflect = () => {
      for (const box of seriesBoxes) {
        const own = imagesOf(box.dataset.series);
        const chosen = own.filter((b) => b.checked).length;
        box.checked = chosen === own.length && own.length > 0;
        box.indeterminate = chosen > 0 && chosen < own.length;
      }
      if (all) {
        const chosen = images.filter((b) => b.checked).length;
        all.checked = chosen === images.length && images.length > 0;
        all.indeterminate = chosen > 0 && chosen < images.length;
      }
    };

    if (all) {
      all.addEventListener("change", () => {
        for (const box of images) box.checked = all.checked;
        reflect();
      });
    }
    for (const box of seriesBoxes) {
      box.addEventListener("change", () => {
        for (const image of imagesOf(box.dataset.series)) image.checked = box.checked;
        reflect();
      });
    }
    for (const box of images) box.addEventListener("change", reflect);
    // With the script, the single images are what is sent: a series box only mirrors them.
    form.addEventListener("submit", () => {
      for (const box of seriesBoxes) box.disabled = true;
    });
    // Back from the review, the browser may show this page as it was left: usable again.
    window.addEventListener("pageshow", () => {
      for (const box of seriesBoxes) box.disabled = false;
    });
    reflect();
  }

  // ---- contacts, checked as they are typed
  const contacts = document.getElementById("contacts");
  const problems = document.getElementById("contacts-problems");
  if (contacts && problems) {
    let timer = null;
    let asked = 0;
    const show = (messages) => {
      problems.replaceChildren();
      if (messages.length === 0) {
        contacts.removeAttribute("aria-invalid");
        return;
      }
      contacts.setAttribute("aria-invalid", "true");
      const list = document.createElement("ul");
      for (const message of messages) {
        const item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      }
      problems.appendChild(list);
    };
    const check = async () => {
      const value = contacts.value;
      if (!value.trim()) {
        show([]);
        return;
      }
      const mine = ++asked;
      try {
        const response = await fetch(`${base}/console/contacts/check`, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ contacts: value }),
        });
        if (!response.ok || mine !== asked) return;
        const answer = await response.json();
        show(answer.problems || []);
      } catch (err) {
        // Offline or refused: the form is checked again when it is sent.
      }
    };
    contacts.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 350);
    });
    contacts.addEventListener("blur", () => {
      clearTimeout(timer);
      check();
    });
  }

  // ---- a form that must be sent once (a double click sends once; the server holds to it as well)
  for (const once of document.querySelectorAll("form[data-once]")) {
    once.addEventListener("submit", (event) => {
      if (once.dataset.sent) {
        event.preventDefault();
        return;
      }
      once.dataset.sent = "1";
      for (const button of once.querySelectorAll("button")) button.setAttribute("aria-disabled", "true");
    });
    // Back to this page, sending again shows the same result (the same key): let the button work.
    window.addEventListener("pageshow", () => {
      delete once.dataset.sent;
      for (const button of once.querySelectorAll("button")) button.removeAttribute("aria-disabled");
    });
  }
})();
