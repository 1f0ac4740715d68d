// Plain JavaScript for the server-rendered pages (no CDN, no framework); CSP allows only this file.
"use strict";

function showEvidence(button) {
  const target = document.getElementById(button.dataset.target);
  if (!target) return;
  for (let el = target.parentElement; el; el = el.parentElement) {
    if (el.tagName === "DETAILS") el.open = true;
  }
  document.querySelectorAll(".active").forEach((el) => el.classList.remove("active"));
  target.classList.add("active");
  document.querySelectorAll('[data-finding="' + button.dataset.finding + '"]').forEach((el) => el.classList.add("active"));
  target.scrollIntoView({ block: "center", inline: "nearest" });
}

function setupEvidence() {
  document.querySelectorAll("button.evidence").forEach((button) => {
    button.addEventListener("click", () => showEvidence(button));
  });
}

function setupUpload() {
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("files");
  const chosen = document.getElementById("chosen");
  if (!zone || !input) return;
  const list = () => {
    chosen.replaceChildren(...Array.from(input.files).map((f) => {
      const li = document.createElement("li");
      li.textContent = f.name + " (" + Math.ceil(f.size / 1024) + " KB)";
      return li;
    }));
  };
  input.addEventListener("change", list);
  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (e) => {
    e.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) {
      input.files = e.dataTransfer.files;
      list();
    }
  });
}

function setupStatusPolling() {
  const table = document.getElementById("intake-cases");
  if (!table) return;
  const pending = () => table.querySelectorAll('[data-status]:not(.st-ready):not(.st-failed)').length;
  const poll = async () => {
    try {
      const response = await fetch("/intake/statuses", { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const statuses = await response.json();
        table.querySelectorAll("tr[data-case]").forEach((row) => {
          const info = statuses[row.dataset.case];
          const cell = row.querySelector("[data-status]");
          if (info && cell && cell.textContent !== info.status) {
            cell.textContent = info.status;
            cell.className = "status st-" + info.status;
          }
        });
      }
    } catch (err) {
      // offline for a moment: try again on the next tick
    }
    if (pending() > 0) setTimeout(poll, 1500);
  };
  if (pending() > 0) setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  setupEvidence();
  setupUpload();
  setupStatusPolling();
});
