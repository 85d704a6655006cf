// The body map of treated zones (clinical/_zone_map.html) inside each `.zone-picker`. With the
// record form's "zones" checkboxes beside it, clicking a shape ticks its area and the other way
// round; without them (a signed record) it shows the zones listed in data-selected.
(function () {
  "use strict";
  function init(root) {
  root.querySelectorAll(".zone-picker").forEach(function (picker) {
    var svg = picker.querySelector("svg");
    if (!svg) return;
    var boxes = Array.prototype.slice.call(picker.querySelectorAll("input[name=zones]"));
    var fixed = (picker.dataset.selected || "").split(" ").filter(Boolean);
    var shapes = svg.querySelectorAll("[data-zone]");
    function paint() {
      var on = boxes.length
        ? boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; })
        : fixed;
      shapes.forEach(function (shape) {
        shape.classList.toggle("on", on.indexOf(shape.dataset.zone) !== -1);
      });
    }
    if (boxes.length) {
      svg.classList.add("interactive");
      shapes.forEach(function (shape) {
        shape.addEventListener("click", function () {
          var box = boxes.find(function (b) { return b.value === shape.dataset.zone; });
          if (box) {
            box.checked = !box.checked;
            // As a click on the box would: the record page's autosave listens for it.
            box.dispatchEvent(new Event("input", { bubbles: true }));
            box.dispatchEvent(new Event("change", { bubbles: true }));
          }
        });
      });
      boxes.forEach(function (b) { b.addEventListener("change", paint); });
    }
    paint();
  });
  }
  init(document);
  // Parts of the record page are swapped in by htmx: draw their maps too.
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt !== document.body) init(event.detail.elt);
  });
})();
