// The consent's signature pad (clinical/consent_sign.html): draw with a finger, stylus or mouse on
// the canvas; on submit the drawing goes into the hidden `signature` field as a PNG data URL
// (empty when nothing was drawn, which the form refuses beside the field).
(function () {
  "use strict";
  var canvas = document.getElementById("signature-pad");
  if (!canvas) return;
  var form = canvas.closest("form");
  var field = form.querySelector("input[name=signature]");
  var clear = document.getElementById("signature-clear");
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var drawn = false;
  ctx.lineWidth = 2.5;
  ctx.lineCap = "round";
  ctx.strokeStyle = "#111";

  function point(e) {
    var r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  }

  canvas.addEventListener("pointerdown", function (e) {
    drawing = true;
    canvas.setPointerCapture(e.pointerId);
    var p = point(e);
    ctx.beginPath();
    ctx.moveTo(p[0], p[1]);
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drawing) return;
    var p = point(e);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    drawn = true;
  });
  ["pointerup", "pointercancel", "pointerleave"].forEach(function (type) {
    canvas.addEventListener(type, function () {
      drawing = false;
    });
  });
  if (clear) {
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      drawn = false;
    });
  }
  form.addEventListener("submit", function () {
    field.value = drawn ? canvas.toDataURL("image/png") : "";
  });
})();
