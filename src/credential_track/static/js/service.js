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
