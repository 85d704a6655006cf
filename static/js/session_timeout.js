// The "you will be signed out" warning (mesoclinic/session_limits.py). Settings come from the
// body's data- attributes; no inline script, so it runs under a strict Content-Security-Policy.
(function () {
  "use strict";
  const data = document.body.dataset;
  const box = document.getElementById("session-warning");
  if (!data.sessionStatusUrl || !box) return;
  const text = document.getElementById("session-warning-text");
  const stay = document.getElementById("session-stay");
  const warnMs = Number(data.sessionWarningSeconds) * 1000;
  let deadline = 0;
  let extendable = true;
  let timer = null;

  function update(state) {
    // One second of margin: reloading a moment early would count as activity.
    deadline = Date.now() + (Number(state.seconds_left) + 1) * 1000;
    extendable = Boolean(state.extendable);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(0, deadline - warnMs - Date.now()));
  }

  async function ask(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
    const type = response.headers.get("content-type") || "";
    // Signed out meanwhile (another tab, the time limit): the answer is the login page.
    if (!response.ok || !type.includes("application/json")) {
      toLogin();
      return null;
    }
    return response.json();
  }

  async function check() {
    // Another tab may have been active: ask before warning (this request is not activity).
    const state = await ask(data.sessionStatusUrl, { headers: { Accept: "application/json" } });
    if (!state) return;
    update(state);
    if (deadline - Date.now() > warnMs) {
      box.hidden = true;
      schedule();
    } else {
      box.hidden = false;
      stay.hidden = !extendable;
      tick();
    }
  }

  function toLogin() {
    // The server signs the session out and the login page says why. Not a reload: a page drawn
    // from a POST would ask to send the form again.
    window.location.assign(data.sessionLoginUrl);
  }

  function tick() {
    clearTimeout(timer);
    const left = deadline - Date.now();
    if (left <= 0) {
      toLogin();
      return;
    }
    const minutes = Math.ceil(left / 60000);
    text.textContent = extendable
      ? `You will be signed out in ${minutes} minute${minutes === 1 ? "" : "s"} without activity.`
      : `Your session ends in ${minutes} minute${minutes === 1 ? "" : "s"} (its time limit). Save your work and sign in again.`;
    timer = setTimeout(tick, Math.min(left, 1000));
  }

  stay.addEventListener("click", async function () {
    const state = await ask(data.sessionExtendUrl, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": data.csrfToken },
    });
    if (!state) return;
    update(state);
    box.hidden = true;
    schedule();
  });

  update({ seconds_left: data.sessionSecondsLeft, extendable: data.sessionExtendable === "true" });
  schedule();
})();
