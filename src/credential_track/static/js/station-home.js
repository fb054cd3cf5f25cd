// Station home: the number keys open the station's actions, so an operator
// never needs the mouse.
(function () {
  "use strict";
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.altKey || ev.metaKey) { return; }
    var tile = document.querySelector('.action-tile[data-key="' + ev.key + '"]');
    if (tile) { ev.preventDefault(); window.location.href = tile.href; }
  });
})();
