// Sidebar buttons: the theme binds each sidebar to the first button of its kind in the page, a
// hidden one in the top bar. A click on any other button of that kind is passed on to it, so the
// theme's own handlers run (a collapse on wide screens, the sidebar drawer on narrow ones).
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of [".primary-toggle", ".secondary-toggle"]) {
    const [bound, ...others] = document.querySelectorAll(kind);
    for (const button of others) {
      button.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    }
  }
});

// Display equations: mark those wider than their box, so that the stylesheet can show a scroll
// cue. Checked once MathJax has typeset the page, and again whenever an equation's box resizes.
function markOverflowingEquations() {
  for (const box of document.querySelectorAll("div.math")) {
    // MathJax's container is the box that scrolls
    const scroller = box.querySelector("mjx-container") || box;
    box.classList.toggle("overflows", scroller.scrollWidth > scroller.clientWidth + 1);
  }
}
window.addEventListener("load", () => {
  const mathjax = window.MathJax && window.MathJax.startup && window.MathJax.startup.promise;
  (mathjax || Promise.resolve()).then(markOverflowingEquations);
  const watch = new ResizeObserver(markOverflowingEquations);
  document.querySelectorAll("div.math").forEach((box) => watch.observe(box));
});
