// Hotline desk: drop a saved reply into the note, in the page's language.
(function () {
  "use strict";
  var select = document.getElementById("saved-reply");
  var body = document.getElementById("note-body");
  if (!select || !body) { return; }
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  select.addEventListener("change", function () {
    var opt = select.options[select.selectedIndex];
    var text = (lang === "en" && opt.dataset.en) ? opt.dataset.en : opt.dataset.zh;
    if (text) { body.value = body.value ? body.value + "\n" + text : text; body.focus(); }
  });
}());

// Hotline desk: search as the agent types (the server renders the rows).
(function () {
  "use strict";
  var input = document.getElementById("desk-q");
  var box = document.getElementById("desk-results");
  if (!input || !box) { return; }
  var timer = null;
  var seq = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.trim();
      if (q.length < 2) { return; }
      var mine = ++seq;
      fetch(box.dataset.endpoint + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && mine === seq) { box.innerHTML = html; }
        })
        .catch(function () { /* the Enter key still searches */ });
    }, 250);
  });
}());
