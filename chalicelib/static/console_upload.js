// The console's Upload (templates/console_upload.html): DICOM files or whole folders, dropped or chosen,
// each sent to S3 with a pre-signed POST from /console/upload/batches, then polled until stored or failed.
//
// Forms are asked for a batch at a time (data-batch files), just before the batch is sent, so that none
// expires while a long upload is under way; a few files go side by side (data-parallel). File names are
// put on the page with textContent only.
"use strict";

(function () {
  const POLL_MS = 2000;
  const POLL_GIVE_UP_MS = 15 * 60 * 1000;
  const $ = (id) => document.getElementById(id);
  const main = $("main");
  const base = main.dataset.base;
  const csrf = main.dataset.csrf;
  const drop = $("drop");
  const batchSize = Number(drop.dataset.batch) || 50;
  const parallel = Number(drop.dataset.parallel) || 4;
  const words = JSON.parse($("upload-strings").textContent);
  const rows = []; // {file, name, row, bar, status, loaded, state}
  let queue = Promise.resolve();
  let stopped = false;

  class SignedOut extends Error {}

  async function call(method, path, payload) {
    const options = { method, credentials: "same-origin", headers: { "X-CSRF-Token": csrf } };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const response = await fetch(base + path, options);
    const type = response.headers.get("Content-Type") || "";
    if (response.status === 401 || response.redirected || !type.startsWith("application/json")) {
      throw new SignedOut(words.session); // the session ended: the console answers with its sign-in page
    }
    const data = await response.json();
    if (!response.ok) {
      throw new Error(words.refused); // the answer's Message is the service's English, for logs and API clients
    }
    return data;
  }

  // ------------------------------------------------------------------ choosing files

  function wanted(name) {
    return !name.startsWith("."); // .DS_Store and other hidden files of a copied folder
  }

  function readAll(reader) {
    return new Promise((resolve, reject) => {
      const entries = [];
      const next = () =>
        reader.readEntries((batch) => {
          if (batch.length === 0) {
            resolve(entries);
          } else {
            entries.push(...batch);
            next(); // a directory reader answers in chunks (100 at a time in Chromium)
          }
        }, reject);
      next();
    });
  }

  async function filesOf(entry) {
    if (entry.isFile) {
      const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
      return wanted(file.name) ? [{ file, name: entry.fullPath.replace(/^\//, "") }] : [];
    }
    if (entry.isDirectory) {
      const found = [];
      for (const child of await readAll(entry.createReader())) {
        found.push(...(await filesOf(child)));
      }
      return found;
    }
    return [];
  }

  async function dropped(dataTransfer) {
    const entries = [];
    for (const item of dataTransfer.items || []) {
      const entry = item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      if (entry) {
        entries.push(entry);
      }
    }
    if (entries.length === 0) {
      return Array.from(dataTransfer.files || [])
        .filter((f) => wanted(f.name))
        .map((file) => ({ file, name: file.name }));
    }
    const found = [];
    for (const entry of entries) {
      found.push(...(await filesOf(entry)));
    }
    return found;
  }

  function picked(input) {
    const chosen = Array.from(input.files || [])
      .filter((f) => wanted(f.name))
      .map((file) => ({ file, name: file.webkitRelativePath || file.name }));
    input.value = "";
    return chosen;
  }

  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    add(await dropped(event.dataTransfer));
  });
  for (const id of ["pick-files", "pick-folder"]) {
    $(id).addEventListener("change", (event) => add(picked(event.target)));
  }

  // ------------------------------------------------------------------ the list

  function add(chosen) {
    if (chosen.length === 0 || stopped) {
      return;
    }
    $("progress-section").hidden = false;
    const added = chosen.map(({ file, name }) => {
      const row = document.createElement("tr");
      const nameCell = document.createElement("td");
      nameCell.textContent = name;
      const barCell = document.createElement("td");
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute("aria-label", words.progress_of + " " + name);
      barCell.append(bar);
      const status = document.createElement("td");
      status.className = "status";
      status.textContent = words.waiting;
      row.append(nameCell, barCell, status);
      $("files").append(row);
      const entry = { file, name, row, bar, status, loaded: 0, state: "waiting" };
      rows.push(entry);
      return entry;
    });
    for (let i = 0; i < added.length; i += batchSize) {
      const batch = added.slice(i, i + batchSize);
      queue = queue.then(() => sendBatch(batch));
    }
    summarize();
  }

  function setState(entry, state, text) {
    entry.state = state;
    entry.status.textContent = text;
    entry.status.className = "status " + state;
    summarize();
  }

  function summarize() {
    const total = rows.reduce((sum, r) => sum + r.file.size, 0) || 1;
    const loaded = rows.reduce((sum, r) => sum + r.loaded, 0);
    $("overall").value = Math.round((100 * loaded) / total);
    const stored = rows.filter((r) => r.state === "stored").length;
    const failed = rows.filter((r) => r.state === "failed" || r.state === "upload_failed").length;
    $("summary").textContent = words.summary
      .replace("{stored}", stored)
      .replace("{failed}", failed)
      .replace("{left}", rows.length - stored - failed)
      .replace("{total}", rows.length);
  }

  function problem(text) {
    $("problem").textContent = text;
    $("problem").hidden = false;
  }

  // ------------------------------------------------------------------ sending

  async function sendBatch(batch) {
    if (stopped) {
      return;
    }
    let upload;
    try {
      upload = await call("POST", "/console/upload/batches", { files: batch.length });
    } catch (error) {
      batch.forEach((entry) => setState(entry, "upload_failed", words.upload_failed));
      stopped = error instanceof SignedOut;
      problem(error.message);
      return;
    }
    const sent = new Map(); // index in the upload → row
    let next = 0;
    const worker = async () => {
      while (next < batch.length) {
        const index = next++;
        const entry = batch[index];
        setState(entry, "uploading", words.uploading);
        try {
          await post(upload.files[index].upload, entry);
          sent.set(index, entry);
          setState(entry, "sent", words.sent);
        } catch (ignored) {
          setState(entry, "upload_failed", words.upload_failed);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, batch.length) }, worker));
    if (sent.size > 0) {
      watch(upload.upload_id, sent, Date.now()); // in the background: the next batch goes meanwhile
    }
  }

  // Straight to S3 with the pre-signed POST; XHR, because fetch reports no upload progress.
  function post(form, entry) {
    return new Promise((resolve, reject) => {
      const data = new FormData();
      for (const [name, value] of Object.entries(form.fields)) {
        data.append(name, value);
      }
      data.append("file", entry.file);
      const request = new XMLHttpRequest();
      request.open("POST", form.url);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) {
          entry.bar.value = Math.round((100 * event.loaded) / event.total);
          entry.loaded = (entry.file.size * event.loaded) / event.total;
          summarize();
        }
      });
      request.addEventListener("load", () => {
        if (request.status >= 200 && request.status < 300) {
          entry.bar.value = 100;
          entry.loaded = entry.file.size;
          resolve();
        } else {
          reject(new Error(words.upload_failed));
        }
      });
      request.addEventListener("error", () => reject(new Error(words.upload_failed)));
      request.send(data);
    });
  }

  // ------------------------------------------------------------------ each file's fate

  async function watch(uploadId, sent, started) {
    let upload;
    try {
      upload = await call("GET", "/console/upload/batches/" + encodeURIComponent(uploadId));
    } catch (error) {
      if (error instanceof SignedOut) {
        stopped = true;
        problem(error.message);
        return;
      }
      upload = null; // a passing failure: ask again
    }
    if (upload) {
      for (const file of upload.files) {
        const entry = sent.get(file.index);
        if (!entry || file.status === "pending") {
          continue;
        }
        if (file.status === "stored") {
          setState(entry, "stored", words.stored);
        } else {
          const detail = file.reason ? " (" + words.detail + ": " + file.reason + ")" : "";
          setState(entry, "failed", words.failed + ": " + file.explanation + detail);
        }
        sent.delete(file.index);
      }
    }
    if (sent.size > 0 && Date.now() - started < POLL_GIVE_UP_MS) {
      setTimeout(() => watch(uploadId, sent, started), POLL_MS);
    }
  }
})();
