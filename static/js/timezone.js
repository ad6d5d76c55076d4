// Pre-selects the browser's own time zone in a <select data-browser-time-zone>.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll("select[data-browser-time-zone]").forEach(function (select) {
    if (select.dataset.userChosen) {
      return;
    }
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) {
        select.value = zone;
        break;
      }
    }
  });
})();
