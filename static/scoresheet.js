// The scoresheet grid: the arrow keys move between the score cells, as in a spreadsheet.
// Tab keeps its usual order (score, comment, next score); nothing here is needed to score.
(function () {
  "use strict";
  var grid = document.querySelector("table.score-grid");
  if (!grid) return;
  function cell(row, col) {
    return grid.querySelector('input.score[data-row="' + row + '"][data-col="' + col + '"]');
  }
  grid.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("score")) return;
    var row = Number(input.dataset.row), col = Number(input.dataset.col);
    var moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    var move = moves[event.key];
    if (!move || event.altKey || event.ctrlKey || event.metaKey) return;
    var rtl = getComputedStyle(grid).direction === "rtl";
    var next = cell(row + move[0], col + (rtl ? -move[1] : move[1]));
    if (next) {
      event.preventDefault();
      next.focus();
      next.select();
    }
  });
})();
