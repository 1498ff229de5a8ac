// 长辈模式 (large-text mode). The mode itself needs no script: the header's checkbox
// #large-mode switches style.css's large rules through `:has(#large-mode:checked)`.
// This optional script (inlined into every page's <head> by base.html) only remembers the choice from page to page (localStorage) and
// sets `html.large` before the first paint, so a remembered choice does not flicker.
(function () {
  var KEY = "skillbrands-large-mode";
  var root = document.documentElement;
  try {
    if (window.localStorage.getItem(KEY) === "1") root.classList.add("large");
  } catch (e) { /* storage blocked: the checkbox still works on each page */ }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("large-mode");
    if (!box) return;
    if (root.classList.contains("large")) box.checked = true;
    box.addEventListener("change", function () {
      root.classList.toggle("large", box.checked);
      try { window.localStorage.setItem(KEY, box.checked ? "1" : "0"); } catch (e) { /* ignore */ }
    });
  });
})();
