// The session record page (clinical/record.html): its parts save on their own through htmx, the
// record form autosaves a draft (hx-trigger on #record-autosave), and leaving with edits that
// are in neither the record nor a draft asks first.
(function () {
  "use strict";
  var FORM = "record-form";
  var AUTOSAVE = "record-autosave";
  // Each edit bumps `edits`; a request remembers the count it carried and, when it succeeds,
  // everything up to that count is kept. Edits typed while it was in flight stay unsaved.
  var edits = 0;
  var kept = 0;

  function unsaved() {
    return edits > kept;
  }

  function keep(count) {
    if (count > kept) kept = count;
  }

  document.addEventListener("input", function (event) {
    if (event.target.form && event.target.form.id === FORM) edits += 1;
  });

  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.id === AUTOSAVE || elt.id === FORM) elt.dataset.edits = String(edits);
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.id === AUTOSAVE && event.detail.successful) keep(Number(elt.dataset.edits || 0));
    if (elt.id === AUTOSAVE && !event.detail.successful) {
      var status = document.getElementById("draft-status");
      if (status) status.textContent = "Draft not kept: check your connection, then save.";
    }
  });

  // Sent by the server (HX-Trigger) when "Save record" passed every check.
  document.body.addEventListener("recordSaved", function () {
    keep(edits);
  });

  // A full-page submit of the record form (htmx unavailable) takes the edits with it.
  document.addEventListener("submit", function (event) {
    if (event.target.id === FORM) keep(edits);
  });

  window.addEventListener("beforeunload", function (event) {
    if (!unsaved()) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();
