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
      clear: picker.querySelector("[data-patient-clear]"),
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
      p.search.setAttribute("aria-expanded", "false");
      p.search.removeAttribute("aria-activedescendant");
      picked(picker);
      p.clear.focus();
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

  // Keyboard: the search box is an ARIA combobox over the results listbox. Arrow keys move the
  // highlighted patient (focus stays in the box: aria-activedescendant), Enter picks it,
  // Escape closes the list.
  function options(picker) {
    return Array.prototype.slice.call(picker.querySelectorAll("[data-patient-listbox] [role=option]"));
  }

  function highlight(picker, index) {
    var search = parts(picker).search;
    var all = options(picker);
    all.forEach(function (option, i) {
      var on = i === index;
      option.setAttribute("aria-selected", on ? "true" : "false");
      option.classList.toggle("active", on);
      if (on) {
        option.scrollIntoView({ block: "nearest" });
      }
    });
    if (index >= 0 && all[index]) {
      search.setAttribute("aria-activedescendant", all[index].id);
    } else {
      search.removeAttribute("aria-activedescendant");
    }
  }

  function current(picker) {
    return options(picker).findIndex(function (option) {
      return option.getAttribute("aria-selected") === "true";
    });
  }

  document.addEventListener("keydown", function (event) {
    var search = event.target.closest && event.target.closest("[data-patient-search]");
    var picker = search && search.closest("[data-patient-picker]");
    if (!picker) {
      return;
    }
    var all = options(picker);
    var index = current(picker);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) {
        return;
      }
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      highlight(picker, index < 0 ? (step > 0 ? 0 : all.length - 1) : (index + step + all.length) % all.length);
    } else if (event.key === "Enter" && index >= 0) {
      event.preventDefault(); // pick the patient, do not submit the booking
      all[index].click();
    } else if (event.key === "Escape" && all.length) {
      event.preventDefault();
      parts(picker).results.innerHTML = "";
      search.setAttribute("aria-expanded", "false");
      search.removeAttribute("aria-activedescendant");
    }
  });

  // New results: the list is open if it has options, and nothing is highlighted yet.
  document.addEventListener("htmx:afterSwap", function (event) {
    var picker = event.target.closest && event.target.closest("[data-patient-picker]");
    if (picker && event.target.matches("[data-patient-results]")) {
      var search = parts(picker).search;
      search.setAttribute("aria-expanded", options(picker).length ? "true" : "false");
      search.removeAttribute("aria-activedescendant");
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
