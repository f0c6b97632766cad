/* Collections: drag a document to a new place (progressive enhancement).
   Without JavaScript the ▲/▼ buttons do the same; with it, dropping an item
   posts the new order through the page's own CSRF-protected form. */
(function () {
  "use strict";
  var list = document.querySelector("ol.coll-items");
  var form = document.getElementById("reorder-form");
  if (!list || !form) { return; }
  var dragged = null;
  function order() {
    return Array.prototype.map.call(list.querySelectorAll("li.coll-item"), function (li) {
      return li.getAttribute("data-document");
    }).join(",");
  }
  var before = order();
  Array.prototype.forEach.call(list.querySelectorAll("li.coll-item"), function (li) {
    li.setAttribute("draggable", "true");
    li.classList.add("draggable");
    li.addEventListener("dragstart", function (e) {
      dragged = li;
      li.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", li.getAttribute("data-document"));
    });
    li.addEventListener("dragend", function () {
      li.classList.remove("dragging");
      dragged = null;
      var now = order();
      if (now !== before) {        // dropped somewhere new: save the order
        form.querySelector("input[name=order]").value = now;
        form.submit();
      }
    });
    li.addEventListener("dragover", function (e) {
      if (!dragged || dragged === li) { return; }
      e.preventDefault();
      var box = li.getBoundingClientRect();
      var after = e.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? li.nextSibling : li);
    });
    li.addEventListener("drop", function (e) { e.preventDefault(); });
  });
  list.addEventListener("dragover", function (e) { if (dragged) { e.preventDefault(); } });
  list.addEventListener("drop", function (e) { e.preventDefault(); });
})();
