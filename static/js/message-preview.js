// Live preview of the message form: the unsaved fields are posted into the
// two sandboxed preview frames (HTML and text) a moment after each change.
(function () {
  "use strict";
  var form = document.getElementById("message-form");
  if (!form) return;
  var url = form.dataset.previewUrl;
  var timer = null;

  function postInto(part) {
    var action = form.getAttribute("action");
    var target = form.getAttribute("target");
    form.setAttribute("action", url + "?part=" + part);
    form.setAttribute("target", "preview-" + part);
    HTMLFormElement.prototype.submit.call(form);
    if (action === null) form.removeAttribute("action"); else form.setAttribute("action", action);
    if (target === null) form.removeAttribute("target"); else form.setAttribute("target", target);
  }

  function refresh() {
    postInto("html");
    postInto("text");
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  var select = document.getElementById("preview-client");
  if (select) select.addEventListener("change", later);
  var button = document.getElementById("preview-refresh");
  if (button) button.addEventListener("click", refresh);
  refresh();
})();
