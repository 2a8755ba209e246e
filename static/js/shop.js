// Page behaviour that htmx attributes cannot express: the native <dialog>s (opening, focus,
// the Back button), keeping the focus where a shopper expects it after a request, clearing
// old notes, and toasts. No inline scripts anywhere (the CSP forbids them).
(function () {
  "use strict";

  // How long a product's "Added…" note stays; any other cart change clears it sooner.
  var NOTE_MS = 10000;

  function isLost(element) {
    return !element || element === document.body || !element.isConnected;
  }

  function canFocus(element) {
    return !!element && element.isConnected && !element.disabled && element.getClientRects().length > 0;
  }

  function titleOf(dialog) {
    var id = dialog.getAttribute("aria-labelledby");
    return id ? document.getElementById(id) : null;
  }

  // Where a dialog's focus starts: a message the server wants read ([autofocus], which
  // showModal focuses itself), the content's natural start ([data-focus-start]), or the title.
  function startOf(dialog) {
    return dialog.querySelector("[autofocus]") || dialog.querySelector("[data-focus-start]") ||
      titleOf(dialog);
  }

  function showModal(dialog) {
    if (dialog.open && dialog.matches(":modal")) return;
    if (dialog.open) dialog.close(); // opened by the server for no-JS visitors
    dialog.showModal();
    var start = startOf(dialog);
    if (start) start.focus();
  }

  // --- Back closes a dialog --------------------------------------------------------------
  // Opening a dialog from a link adds a history entry (a product's own URL; the cart and My
  // Orders keep the page's URL, as they are views over it), so Back closes the dialog instead
  // of leaving the page, and closing it any other way takes that entry back off.
  var swallowNextPop = false;

  function pushDialog(dialog, link) {
    if (history.state && history.state.shopDialog === dialog.id) return;
    var url = link.hasAttribute("data-dialog-url") ? link.getAttribute("href") : location.href;
    history.pushState(
      { shopDialog: dialog.id, shopUrl: link.getAttribute("href"), shopTarget: link.getAttribute("hx-target") },
      "",
      url
    );
  }

  // Registered before htmx's own handler (htmx sets window.onpopstate once the page is
  // ready), so an entry of ours never makes htmx reload the page from the server.
  window.addEventListener("popstate", function (evt) {
    if (swallowNextPop) {
      swallowNextPop = false;
      evt.stopImmediatePropagation();
      return;
    }
    var state = evt.state || {};
    var open = document.querySelector("dialog[open]");
    if (open && state.shopDialog !== open.id) {
      evt.stopImmediatePropagation(); // the page under the dialog is already the one to show
      open.close();
    } else if (!open && state.shopDialog && window.htmx) {
      evt.stopImmediatePropagation(); // Forward onto a dialog's entry: open it again
      window.htmx.ajax("GET", state.shopUrl, { target: state.shopTarget });
    }
  });

  document.addEventListener("close", function (evt) {
    var dialog = evt.target;
    if (!(dialog instanceof HTMLDialogElement) || dialog.open) return; // reopened as modal
    if (history.state && history.state.shopDialog === dialog.id) {
      swallowNextPop = true;
      history.back();
    }
    var pageTitle = document.getElementById("page-title");
    if (dialog.dataset.continued && pageTitle) {
      pageTitle.focus(); // "Continue shopping": on to the products
    } else if (isLost(document.activeElement) || dialog.contains(document.activeElement)) {
      // Chrome leaves the focus inside a closed dialog that had nothing to return it to.
      var opener = document.querySelector('[data-dialog="' + dialog.id + '"]');
      if (opener) opener.focus(); // a dialog the server opened had no opener to return to
    }
    delete dialog.dataset.continued;
  }, true); // "close" does not bubble

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-continue]");
    var dialog = button && button.closest("dialog");
    if (dialog) dialog.dataset.continued = "1";
  });

  // --- Requests: open dialogs, keep the focus ----------------------------------------------
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("dialog[data-open]").forEach(showModal);
    document.querySelectorAll("#toasts .toast").forEach(scheduleRemoval);
    if (history.state && history.state.shopDialog && !document.querySelector("dialog[open]")) {
      // Back here from another page: the dialog this entry opened is gone with the old page.
      history.replaceState(null, "");
    }
  });

  // Where the focus was when a request started: the control that sent it is disabled while
  // the request runs (hx-disabled-elt), which drops the focus to <body>, and a swapped
  // body replaces its controls.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var active = document.activeElement;
    if (isLost(active)) return;
    var line = active.closest(".cart-line");
    evt.detail.shopFocus = {
      element: active,
      id: active.id,
      line: line ? Array.prototype.indexOf.call(line.parentNode.children, line) : -1
    };
  });

  // A fragment swapped into a closed dialog means the customer asked to see it.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    if (target && target.id === "toasts") {
      target.querySelectorAll(".toast").forEach(function (el) {
        if (!el.dataset.timed) { el.dataset.timed = "1"; scheduleRemoval(el); }
      });
      return;
    }
    if (target && target.classList.contains("added-note")) {
      var field = target.closest("form").querySelector(".qty");
      if (target.querySelector(".add-ok") && field) field.value = field.defaultValue;
      clearNoteLater(target);
      return;
    }
    var dialog = target && target.closest ? target.closest("dialog") : null;
    if (dialog && !dialog.open) {
      var link = evt.detail.requestConfig && evt.detail.requestConfig.elt;
      if (link && link.getAttribute && link.getAttribute("data-dialog") === dialog.id) {
        pushDialog(dialog, link);
      }
      showModal(dialog);
    }
  });

  // A note goes after NOTE_MS, but not from under a pointer or the focus on its link.
  function clearNoteLater(note) {
    clearTimeout(note.shopTimer);
    note.shopTimer = setTimeout(function () {
      if (note.matches(":hover") || note.contains(document.activeElement)) clearNoteLater(note);
      else note.textContent = "";
    }, NOTE_MS);
  }

  // After the swap: the focus goes back to the control that sent the request, or the one
  // with its id in the new content, or the cart line that took a removed line's place, or
  // the new content's start; a link may name where the focus goes (data-return-focus).
  document.addEventListener("htmx:afterRequest", function (evt) {
    var elt = evt.detail.elt;
    var named = elt && elt.getAttribute && elt.getAttribute("data-return-focus");
    if (named && canFocus(document.getElementById(named))) {
      document.getElementById(named).focus();
      return;
    }
    var saved = evt.detail.shopFocus;
    if (!saved || !isLost(document.activeElement)) return;
    var next = canFocus(saved.element) ? saved.element : document.getElementById(saved.id || "");
    if (!canFocus(next) && saved.line >= 0) {
      var lines = document.querySelectorAll("#cart-body .cart-line");
      var line = lines[Math.min(saved.line, lines.length - 1)];
      next = line && line.querySelector("input:not([type=hidden]), button");
    }
    var target = evt.detail.target;
    var dialog = target && target.isConnected ? target.closest("dialog") : null;
    if (!canFocus(next) && dialog && dialog.open) next = startOf(dialog);
    if (canFocus(next)) next.focus();
  });

  // A product's note describes one moment: another change to the cart makes it stale.
  document.addEventListener("cart-changed", function (evt) {
    document.querySelectorAll(".added-note").forEach(function (note) {
      if (!evt.target.contains(note)) note.textContent = "";
    });
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

  // The page's language (<html lang>), for numbers and dates written here.
  function pageLocale() {
    return document.documentElement.lang === "de" ? "de" : "en-US";
  }

  // --- A refund asks first, naming the amount ----------------------------------------------
  // The admin's refund form posts only after its <dialog> is confirmed. An amount the shop
  // would refuse anyway (empty, malformed) goes straight to the server, which says why.
  function refundAmount(form) {
    if (form.querySelector('[name="full"]').checked) {
      return form.querySelector('[name="amount"]').value.trim() ? null : form.dataset.left;
    }
    var typed = form.querySelector('[name="amount"]').value.trim();
    if (!/^\d+(\.\d{1,2})?$/.test(typed)) return null;
    return new Intl.NumberFormat(pageLocale(), { style: "currency", currency: form.dataset.currency.toUpperCase() })
      .format(Number(typed));
  }

  document.addEventListener("htmx:confirm", function (evt) {
    var form = evt.detail.elt;
    if (!form.hasAttribute || !form.hasAttribute("data-confirm-refund")) return;
    var amount = refundAmount(form);
    var dialog = document.getElementById("refund-confirm");
    if (!amount || !dialog) return;
    evt.preventDefault();
    dialog.querySelectorAll("[data-confirm-amount]").forEach(function (el) { el.textContent = amount; });
    dialog.returnValue = "";
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "refund") evt.detail.issueRequest(true);
    }, { once: true });
    dialog.showModal();
  });

  // --- Times in the reader's own zone --------------------------------------------------------
  // The server writes the shop's zone, named; here each time[data-local] says the reader's
  // own, named too ("06 Dec 2026, 19:19 GMT-8"), with the shop's as its title.
  function localTimes(root) {
    root.querySelectorAll("time[data-local]:not([data-shown])").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment)) return;
      var options = { day: "2-digit", month: "short", year: "numeric", hour: "2-digit",
                      minute: "2-digit", hourCycle: "h23", timeZoneName: "short" };
      if (el.hasAttribute("data-seconds")) options.second = "2-digit";
      el.title = el.textContent;
      el.textContent = new Intl.DateTimeFormat(pageLocale() === "de" ? "de-DE" : "en-GB", options)
        .format(moment).replace(" at ", ", ").replace(" um ", ", ");
      el.setAttribute("data-shown", "");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:load", function (evt) { localTimes(evt.detail.elt); });

  // --- Toasts --------------------------------------------------------------------------------
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

  document.addEventListener("htmx:sendError", function () {
    toast("The shop could not be reached. Check your connection and try again.");
  });
})();
