// The booking form's patient picker: the search box asks patients:patient_picker (htmx) for
// matching patients; clicking one puts its id in the hidden `patient` field. Typing again
// clears the choice, so the form never books a patient the desk no longer sees.
(function () {
  "use strict";

  function parts(picker) {
    return {
      hidden: picker.querySelector("input[name=patient]"),
      search: picker.querySelector("[data-patient-search]"),
      chosen: picker.querySelector("[data-patient-chosen]"),
      label: picker.querySelector("[data-patient-chosen-label]"),
      results: picker.querySelector("[data-patient-results]"),
    };
  }

  // Tells the form the patient changed (the course-step choice listens: "patient-picked from:body").
  function picked(picker) {
    picker.dispatchEvent(new CustomEvent("patient-picked", { bubbles: true }));
  }

  // The picker endpoint reads `q`; the search box posts as `patient_search` with the form.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.matches && elt.matches("[data-patient-search]")) {
      event.detail.parameters["q"] = elt.value;
      delete event.detail.parameters["patient_search"];
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-patient-id]");
    var picker = button && button.closest("[data-patient-picker]");
    if (picker) {
      var p = parts(picker);
      p.hidden.value = button.dataset.patientId;
      p.label.textContent = button.dataset.patientLabel;
      p.search.value = button.dataset.patientLabel;
      p.search.classList.remove("is-invalid");
      p.search.classList.add("d-none");
      p.chosen.classList.remove("d-none");
      p.results.innerHTML = "";
      picked(picker);
      return;
    }
    var clear = event.target.closest("[data-patient-clear]");
    picker = clear && clear.closest("[data-patient-picker]");
    if (picker) {
      var q = parts(picker);
      q.hidden.value = "";
      q.chosen.classList.add("d-none");
      q.search.classList.remove("d-none");
      q.search.value = "";
      q.search.focus();
      picked(picker);
    }
  });

  document.addEventListener("input", function (event) {
    var search = event.target.closest && event.target.closest("[data-patient-search]");
    var picker = search && search.closest("[data-patient-picker]");
    if (picker) {
      parts(picker).hidden.value = "";
    }
  });
})();
