// Proof-of-work for forms marked data-pow. Runs in a Web Worker so the page stays responsive.
// Without JavaScript (or if workers fail) the form is still sent, and the server applies a
// stricter rate limit instead. Algorithm: docs/api.md.
(function () {
  "use strict";
  function setup(form) {
    var ch = form.querySelector("input[name=pow_challenge]");
    var nonce = form.querySelector("input[name=pow_nonce]");
    var status = form.querySelector(".pow-status");
    var busy = false;
    if (!ch || !nonce || typeof Worker === "undefined") return;
    form.addEventListener("submit", function (ev) {
      if (nonce.value) return;           // already solved: let it go
      ev.preventDefault();
      if (busy) return;
      busy = true;
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      if (status) status.textContent = "正在进行防刷验证，通常需要几秒钟，请稍候……";
      var worker;
      try { worker = new Worker(form.ownerDocument.querySelector("script[src$='pow.js']").src.replace(/pow\.js.*$/, "pow-worker.js")); }
      catch (e) { HTMLFormElement.prototype.submit.call(form); return; }
      worker.onmessage = function (m) {
        nonce.value = String(m.data.nonce);
        if (status) status.textContent = "验证完成，正在提交……";
        worker.terminate();
        HTMLFormElement.prototype.submit.call(form);
      };
      worker.onerror = function () { worker.terminate(); HTMLFormElement.prototype.submit.call(form); };
      worker.postMessage({ challenge: ch.value, bits: parseInt(ch.getAttribute("data-bits"), 10) || 0 });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-pow]");
    for (var i = 0; i < forms.length; i++) setup(forms[i]);
  });
})();
