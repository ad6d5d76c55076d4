// The mailing form's client list: filter the checkboxes as you type (and, when
// not every client is listed, fetch matches from the server), count the ticks.
(function () {
  "use strict";
  var filter = document.getElementById("client-filter");
  var picker = document.getElementById("client-picker");
  var list = document.getElementById("client-checklist");
  var all = document.getElementById("id_all_clients");
  var counter = document.getElementById("client-selected-count");
  if (!filter || !picker || !list) { return; }
  var searchUrl = picker.dataset.searchUrl;
  var timer = null;

  function applyFilter() {
    var needle = filter.value.trim().toLowerCase();
    list.querySelectorAll(".client-choice").forEach(function (el) {
      el.hidden = needle !== "" && el.dataset.search.indexOf(needle) === -1;
    });
  }

  function addChoice(client) {
    if (document.getElementById("client-" + client.id)) { return; }
    var div = document.createElement("div");
    div.className = "form-check client-choice";
    div.dataset.search = (client.email + " " + client.full_name).toLowerCase();
    var input = document.createElement("input");
    input.className = "form-check-input";
    input.type = "checkbox";
    input.name = "clients";
    input.value = client.id;
    input.id = "client-" + client.id;
    var label = document.createElement("label");
    label.className = "form-check-label";
    label.htmlFor = input.id;
    label.textContent = client.full_name ? client.email + " (" + client.full_name + ")" : client.email;
    div.appendChild(input);
    div.appendChild(label);
    list.appendChild(div);
  }

  function searchServer() {
    var needle = filter.value.trim();
    if (!searchUrl || needle.length < 2) { return; }
    fetch(searchUrl + "?q=" + encodeURIComponent(needle), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : {results: []}; })
      .then(function (data) { data.results.forEach(addChoice); applyFilter(); });
  }

  filter.addEventListener("input", function () {
    applyFilter();
    window.clearTimeout(timer);
    timer = window.setTimeout(searchServer, 250);
  });
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }
  });
  list.addEventListener("change", function () {
    counter.textContent = list.querySelectorAll("input[type=checkbox]:checked").length;
  });
  if (all) {
    all.addEventListener("change", function () { picker.classList.toggle("opacity-50", all.checked); });
  }
})();
