// The timeline's tip: hovering over, tapping or focusing a bar shows its
// title (who, which stint, why) beside it. Text only (textContent), so no
// name or note can become markup; without this script the titles still
// show as the browser's own tooltips and the table below says it all.
(function () {
  "use strict";
  var tip = document.getElementById("tl-tip");
  if (!tip) { return; }
  var frame = tip.parentNode;
  var shown = null;

  function barOf(node) {
    return node && node.closest ? node.closest(".tl-stint, .tl-today, .tl-chart rect[class^='tl-'], .tl-chart path") : null;
  }

  function show(bar) {
    var title = bar.querySelector("title");
    if (!title) { return; }
    if (shown) { shown.classList.remove("shown"); }
    shown = bar;
    bar.classList.add("shown");
    tip.textContent = title.textContent;
    tip.hidden = false;
    var box = frame.getBoundingClientRect();
    var at = bar.getBoundingClientRect();
    var left = Math.max(0, Math.min(at.left - box.left, box.width - tip.offsetWidth));
    var top = at.bottom - box.top + 4;
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  }

  function hide() {
    if (shown) { shown.classList.remove("shown"); }
    shown = null;
    tip.hidden = true;
  }

  frame.addEventListener("pointerover", function (e) {
    var bar = barOf(e.target);
    if (e.pointerType === "mouse" && bar && bar.querySelector("title")) { show(bar); }
  });
  frame.addEventListener("pointerout", function (e) {
    if (e.pointerType === "mouse" && shown && !shown.contains(e.relatedTarget)) { hide(); }
  });
  frame.addEventListener("click", function (e) {
    var bar = barOf(e.target);
    if (!bar || !bar.querySelector("title")) { hide(); return; }
    show(bar);
  });
  frame.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("tl-stint")) { show(e.target); }
  });
  frame.addEventListener("focusout", hide);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { hide(); } });
  frame.querySelector(".tl-scroll").addEventListener("scroll", hide, { passive: true });
})();
