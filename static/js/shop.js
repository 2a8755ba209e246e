// Page behaviour that htmx attributes cannot express: opening the native <dialog>s,
// and dismissing toasts. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";

  function showModal(dialog) {
    if (dialog.open && dialog.matches(":modal")) return;
    if (dialog.open) dialog.close(); // opened by the server for no-JS visitors
    dialog.showModal();
  }

  function toast(message) {
    var box = document.getElementById("toasts");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "toast toast-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    box.appendChild(p);
    scheduleRemoval(p);
  }

  function scheduleRemoval(el) {
    setTimeout(function () { el.remove(); }, 6000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-open]").forEach(showModal);
    document.querySelectorAll("#toasts .toast").forEach(scheduleRemoval);
  });

  // A fragment swapped into a dialog body means the customer asked to see it.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "toasts") {
      target.querySelectorAll(".toast").forEach(function (el) {
        if (!el.dataset.timed) { el.dataset.timed = "1"; scheduleRemoval(el); }
      });
      return;
    }
    var dialog = target && target.closest ? target.closest("dialog") : null;
    if (dialog && !dialog.open) showModal(dialog);
  });

  // A click on the dimmed backdrop (outside the dialog box) closes it, like Esc.
  document.addEventListener("click", function (evt) {
    if (evt.target instanceof HTMLDialogElement && evt.target.open) {
      var r = evt.target.getBoundingClientRect();
      var inside = evt.clientX >= r.left && evt.clientX <= r.right &&
                   evt.clientY >= r.top && evt.clientY <= r.bottom;
      if (!inside) evt.target.close();
    }
  });

  // My Orders refreshes itself while an order is pending, but only while it is on screen.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var elt = evt.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-poll")) {
      var dialog = elt.closest("dialog");
      if (dialog && !dialog.open) evt.preventDefault();
    }
  });

  document.addEventListener("htmx:sendError", function () {
    toast("The shop could not be reached. Check your connection and try again.");
  });
})();
