// The visit chat, for the patient and for the clinician: one script, loaded by templates/chat.html.
//
// Everything a person wrote is put on the page with textContent, never as HTML. New messages come by
// polling; because a file's message changes after it is first seen (pending → ready or rejected), each
// poll starts just before the oldest unsettled message, and a few messages back in case two were
// numbered in one order and stored in the other.
"use strict";

(function () {
  const POLL_MS = 2000;
  const OVERLAP = 10;
  const body = document.body;
  const api = body.dataset.api;
  const role = body.dataset.role;
  const lang = body.dataset.lang || "sv";
  const words = JSON.parse(document.getElementById("chat-strings").textContent);
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const shown = new Map(); // seq → {element, key, settled}
  let cursor = 0;
  let stopped = false;
  let chosen = null;

  // A clinician's page is opened with a one-time ticket: keep it out of the history and the address bar.
  if (new URLSearchParams(location.search).has("ticket")) {
    history.replaceState(null, "", location.pathname);
  }

  async function call(method, path, payload) {
    const options = { method, credentials: "same-origin", headers: {} };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const response = await fetch(api + path, options);
    let data = null;
    try {
      data = await response.json();
    } catch (ignored) {
      data = null;
    }
    if (!response.ok) {
      const error = new Error((data && data.Message) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function notice(text) {
    const element = $("notice");
    element.textContent = text;
    element.hidden = !text;
  }

  function stop(text) {
    stopped = true;
    notice(text);
    setComposing(false);
  }

  function failed(error) {
    if (error.status === 401 || error.status === 403) {
      stop(words.session);
    } else if (error.status === 410) {
      stop(words.ended);
    }
  }

  // ------------------------------------------------------------------ reading

  function since() {
    let from = Math.max(0, cursor - OVERLAP);
    for (const [seq, item] of shown) {
      if (!item.settled && seq - 1 < from) {
        from = seq - 1;
      }
    }
    return from;
  }

  async function poll() {
    try {
      let after = since();
      for (;;) {
        const page = await call("GET", "/messages?after=" + after + "&limit=100");
        page.messages.forEach(render);
        cursor = Math.max(cursor, page.next);
        visitState(page.visit);
        if (!page.more) {
          break;
        }
        after = page.next;
      }
    } catch (error) {
      failed(error);
    }
    if (!stopped) {
      setTimeout(poll, POLL_MS);
    }
  }

  function visitState(visit) {
    const contacts = $("contacts");
    if (contacts && visit.contacts && contacts.textContent !== visit.contacts.join(", ")) {
      contacts.textContent = visit.contacts.join(", "); // the clinician's page only: who they talk to
      $("contacts-line").hidden = false;
    }
    if (visit.status === "closed") {
      notice(words.closed);
      setComposing(false);
      const button = $("close-visit");
      if (button) {
        button.hidden = true;
      }
    }
  }

  // Once nothing more can be sent, the composer goes and the notice takes its place at the bottom of the
  // screen, where the patient is looking (the list scrolls to its newest message).
  function setComposing(enabled) {
    for (const id of ["text", "send", "file", "upload"]) {
      $(id).disabled = !enabled;
    }
    $("composer").hidden = !enabled;
    if (!enabled) {
      $("preview").hidden = true;
      $("notice").scrollIntoView({ block: "end" });
    }
  }

  function who(message) {
    if (message.mine) {
      return words.you;
    }
    return message.sender === "patient" ? words.patient : words.clinic;
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  }

  function size(bytes) {
    if (bytes >= 1024 * 1024) {
      return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    }
    return Math.max(1, Math.round(bytes / 1024)) + " kB";
  }

  function element(tag, className, text) {
    const made = document.createElement(tag);
    if (className) {
      made.className = className;
    }
    if (text !== undefined) {
      made.textContent = text;
    }
    return made;
  }

  function render(message) {
    const key = JSON.stringify(message);
    const existing = shown.get(message.seq);
    if (existing && existing.key === key) {
      return;
    }
    const item = element("article", "message " + (message.mine ? "mine" : "theirs"));
    item.dataset.seq = String(message.seq);
    item.append(element("p", "meta", who(message) + " · " + clock(message.sent_at)));
    if (message.text !== null) {
      item.append(element("p", "text", message.text));
    }
    if (message.attachment) {
      item.append(attachment(message.attachment));
    }
    const settled = !message.attachment || message.attachment.status !== "pending";
    if (existing) {
      existing.element.replaceWith(item);
    } else {
      const later = [...list.children].find((child) => Number(child.dataset.seq) > message.seq);
      list.insertBefore(item, later || null);
      item.scrollIntoView({ block: "end" });
    }
    shown.set(message.seq, { element: item, key, settled });
  }

  function attachment(file) {
    const box = element("div", "file " + file.status);
    box.dataset.attachment = file.attachment_id;
    const name = element("span", "name", file.filename);
    if (file.status === "pending") {
      box.append(name, element("span", "status", words.pending));
      return box;
    }
    if (file.status === "rejected") {
      const reason = words["reason_" + file.reason_code] || file.reason || "";
      box.append(name, element("span", "status", words.rejected + ": " + reason));
      return box;
    }
    if (file.family === "image" && file.preview_url) {
      const button = element("button", "thumb");
      button.type = "button";
      button.title = words.open;
      const image = element("img");
      image.src = file.preview_url;
      image.alt = file.filename;
      button.append(image);
      button.addEventListener("click", () => window.PictureViewer.open(file.url, file.filename, button));
      box.append(button);
    } else if (file.family === "video") {
      const video = element("video");
      video.controls = true;
      video.playsInline = true;
      video.preload = "none";
      video.setAttribute("aria-label", file.filename);
      if (file.preview_url) {
        video.poster = file.preview_url;
      }
      video.src = file.url;
      box.append(video);
    }
    const link = element("a", "download", words.download + " · " + file.filename + " · " + size(file.size));
    link.href = file.url;
    link.rel = "noopener";
    box.append(link);
    if (role === "clinician" && file.saved) {
      box.append(element("span", "saved", words.saved));
    }
    return box;
  }

  // ------------------------------------------------------------------ writing

  $("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("text").value;
    if (!text.trim()) {
      return;
    }
    $("send").disabled = true;
    try {
      render(await call("POST", "/messages", { text }));
      $("text").value = "";
      notice("");
    } catch (error) {
      notice(error.status === 409 ? words.closed : words.send_failed);
      failed(error);
    } finally {
      $("send").disabled = stopped;
    }
  });

  $("file").addEventListener("change", () => {
    chosen = $("file").files[0] || null;
    if (chosen) {
      showPreview(chosen);
    }
  });

  function showPreview(file) {
    const media = $("preview-media");
    for (const old of media.querySelectorAll("img, video")) {
      URL.revokeObjectURL(old.src);
    }
    media.replaceChildren();
    if (file.type.startsWith("image/")) {
      const image = element("img");
      image.src = URL.createObjectURL(file);
      image.alt = file.name;
      media.append(image);
    } else if (file.type.startsWith("video/")) {
      const video = element("video");
      video.src = URL.createObjectURL(file);
      video.muted = true;
      video.controls = true;
      video.playsInline = true;
      video.setAttribute("aria-label", file.name);
      media.append(video);
    }
    $("preview-name").textContent = file.name + " · " + size(file.size);
    $("progress").hidden = true;
    $("progress").value = 0;
    $("upload-error").hidden = true;
    $("upload").disabled = false;
    $("preview").hidden = false;
  }

  function closePreview() {
    $("preview").hidden = true;
    $("file").value = "";
    chosen = null;
  }

  $("cancel-upload").addEventListener("click", closePreview);

  $("upload").addEventListener("click", async () => {
    if (!chosen) {
      return;
    }
    const file = chosen;
    $("upload").disabled = true;
    $("upload-error").hidden = true;
    try {
      const announced = await call("POST", "/attachments", {
        filename: file.name,
        content_type: file.type || "application/octet-stream",
        size: file.size,
      });
      render(announced.message);
      await send(announced.upload, file);
      closePreview();
    } catch (error) {
      $("upload-error").textContent = refusal(error);
      $("upload-error").hidden = false;
      $("upload").disabled = false;
      failed(error);
    }
  });

  function refusal(error) {
    if (error.status === 413) {
      return words.reason_too_large;
    }
    if (error.status === 415) {
      return /audio/i.test(error.message) ? words.reason_audio : words.reason_type;
    }
    if (error.status === 409) {
      return words.closed;
    }
    return words.upload_failed;
  }

  // The file goes straight to S3 with the pre-signed POST; XHR, because fetch reports no upload progress.
  function send(upload, file) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      for (const [name, value] of Object.entries(upload.fields)) {
        form.append(name, value);
      }
      form.append("file", file);
      const progress = $("progress");
      progress.hidden = false;
      progress.value = 0;
      const request = new XMLHttpRequest();
      request.open("POST", upload.url);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          progress.value = Math.round((100 * event.loaded) / event.total);
        }
      });
      request.addEventListener("load", () => {
        if (request.status >= 200 && request.status < 300) {
          progress.value = 100;
          resolve();
        } else {
          reject(new Error(words.upload_failed));
        }
      });
      request.addEventListener("error", () => reject(new Error(words.upload_failed)));
      request.send(form);
    });
  }

  // ------------------------------------------------------------------ dialogs and closing the visit

  for (const button of document.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => button.closest("dialog").close());
  }

  if (role === "clinician") {
    $("close-visit").addEventListener("click", () => $("confirm-close").showModal());
    $("confirm-close-yes").addEventListener("click", async () => {
      $("confirm-close").close();
      try {
        const closed = await call("POST", "/close");
        visitState(closed.visit);
        showReminder(closed.reminder);
      } catch (error) {
        notice(words.close_failed);
        failed(error);
      }
    });
  }

  function showReminder(reminder) {
    const items = $("reminder-files");
    items.replaceChildren();
    if (reminder.files.length === 0) {
      items.append(element("li", "empty", words.nothing_to_save));
    }
    for (const file of reminder.files) {
      const item = element("li", "reminder-file");
      const from = file.sender === "patient" ? words.from_patient : words.from_clinic;
      item.append(element("span", "name", file.filename));
      item.append(element("span", "meta", from + " · " + clock(file.sent_at) + " · " + file.content_type));
      const link = element("a", "download", words.download);
      link.href = file.download_url;
      link.rel = "noopener";
      item.append(link);
      const mark = element("button", "secondary", file.saved ? words.saved : words.mark_saved);
      mark.type = "button";
      mark.disabled = file.saved;
      mark.addEventListener("click", async () => {
        try {
          await call("POST", "/attachments/" + encodeURIComponent(file.attachment_id) + "/saved");
          mark.textContent = words.saved;
          mark.disabled = true;
        } catch (error) {
          failed(error);
        }
      });
      item.append(mark);
      items.append(item);
    }
    $("reminder-advice").textContent = reminder.advice[lang] || reminder.advice.en;
    $("reminder").showModal();
  }

  poll();
})();
