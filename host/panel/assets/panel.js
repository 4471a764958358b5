// Placeholder of the doctor's panel script: reads the token from the URL fragment (never sent
// to the server), sends it as a Bearer header, and shows whom the session is for.
"use strict";
(function () {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token");
  const out = document.getElementById("session");
  if (!token) {
    out.textContent = "Aucun jeton : ouvrez ce panneau depuis votre logiciel d'agenda.";
    return;
  }
  fetch("/admin/v1/panel/session", { headers: { Authorization: "Bearer " + token } })
    .then((r) => r.json())
    .then((s) => {
      out.textContent = s.error ? s.error.message : "Praticien " + s.practitioner + " (" + s.subject + ")";
    });
})();
