// The mailing form: typing a start time chooses "At a set time" (a new mailing
// defaults to "Start now"), so the time typed is the time used.
(function () {
  "use strict";
  var startAt = document.getElementById("id_start_at");
  var atTime = document.querySelector("input[name=start_mode][value=at]");
  if (!startAt || !atTime) { return; }
  function choose() { if (startAt.value) { atTime.checked = true; } }
  startAt.addEventListener("input", choose);
  startAt.addEventListener("change", choose);
})();
