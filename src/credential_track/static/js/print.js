// Printing without leaving the page: a document (label, bag label, manifest,
// trip sheet) is loaded into one hidden frame of this page and printed from
// there; the scan field gets the focus back at once, so the next scan is
// taken while the printer works. Any link with class "print-link" prints
// this way (its address stays, to open it by hand).
(function () {
  "use strict";
  if (window.CredTrackPrint) { return; }

  function refocus() {
    var input = document.getElementById("scan-input");
    if (input) { input.focus(); }
  }

  function frame() {
    var f = document.getElementById("print-frame");
    if (!f) {
      f = document.createElement("iframe");
      f.id = "print-frame";
      f.className = "print-frame";
      f.setAttribute("aria-hidden", "true");
      f.tabIndex = -1;
      document.body.appendChild(f);
    }
    return f;
  }

  // a browser prints what it can show: the PDF, also at a station whose labels
  // are ZPL (the printer's driver prints it; raw ZPL is for downloads and
  // `credtrack print`)
  function printable(url) {
    if (/[?&]format=/.test(url)) { return url; }
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "format=pdf";
  }

  function print(url) {
    url = printable(url);
    var f = frame();
    f.onload = function () {
      try { f.contentWindow.print(); } catch (e) { /* the document is still in the frame */ }
      refocus();
    };
    f.dataset.printed = url;
    f.src = url;
    refocus();
  }

  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a.print-link");
    if (!a || !a.getAttribute("href") || ev.ctrlKey || ev.metaKey || ev.shiftKey) { return; }
    ev.preventDefault();
    print(a.getAttribute("href"));
  });

  window.CredTrackPrint = { print: print };
})();
