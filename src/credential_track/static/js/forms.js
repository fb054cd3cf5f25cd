// A refused form comes back as it was typed: the server keeps what was sent
// (secrets excepted) and the field at fault (unit_of_work.typed_values); this
// fills the form that was sent in again and marks that field, with the
// server's words above it in the flash message.
//
// A form with data-confirm="…" (departing a trip, closing a handover batch:
// what cannot be taken back) asks first, in the page's words.
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form && form.dataset && form.dataset.confirm;
    if (question && !window.confirm(question)) { ev.preventDefault(); }
  }, true);
})();

(function () {
  "use strict";
  var el = document.getElementById("refused-form");
  if (!el) { return; }
  var data;
  try { data = JSON.parse(el.textContent); } catch (e) { return; }
  if (!data || !data.values) { return; }
  var forms = Array.prototype.filter.call(document.forms, function (f) {
    try { return new URL(f.action, location.href).pathname === data.path; } catch (e) { return false; }
  });
  forms.forEach(function (form) {
    Object.keys(data.values).forEach(function (name) {
      var values = data.values[name];
      var els = Array.prototype.filter.call(form.elements, function (e) { return e.name === name; });
      var i = 0;
      els.forEach(function (e) {
        if (e.type === "hidden" || e.type === "password" || e.type === "file" || e.type === "submit") { return; }
        if (e.type === "checkbox" || e.type === "radio") { e.checked = values.indexOf(e.value) >= 0; return; }
        if (i < values.length) { e.value = values[i]; }
        i += 1;
      });
    });
    if (!data.field) { return; }
    // the field at fault, by its name (a list's fields share the singular:
    // "escorts" marks every "escort", "credential_no" the "credential_nos"
    // field) or a data-field naming it
    var bad = Array.prototype.filter.call(form.elements, function (e) {
      return e.name === data.field || e.name + "s" === data.field || data.field + "s" === e.name ||
        e.dataset.field === data.field;
    });
    bad.forEach(function (e) {
      e.classList.add("field-error");
      e.setAttribute("aria-invalid", "true");
      var label = e.closest("label");
      if (label) { label.classList.add("field-error"); }
    });
    if (bad.length) { bad[0].focus(); }
  });
})();
