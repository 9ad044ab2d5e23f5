// Progressive enhancement of the sign-up form (it works without this script): checks the
// site address against GET /api/register/check as the user types, and submits with fetch so
// that the answer — created, or "check your email" when verification is on — replaces the
// form in place. No third-party code, no cookies.
(function () {
  "use strict";
  var form = document.querySelector("form.register");
  if (!form || !window.fetch) return;
  var input = form.querySelector("#subdomain");
  var status = form.querySelector("#subdomain-status");
  var button = form.querySelector("button[type=submit]");
  var timer = null;
  var seq = 0;

  function say(el, text, ok) {
    el.textContent = text;
    el.className = "status " + (ok ? "ok" : "problem");
  }

  function check() {
    var name = input.value.trim();
    if (!name) { status.textContent = ""; input.removeAttribute("aria-invalid"); return; }
    var mine = ++seq;
    fetch(form.getAttribute("data-check") + "?name=" + encodeURIComponent(name), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (a) {
        if (mine !== seq) return; // an older answer arriving late
        input.setAttribute("aria-invalid", a.available ? "false" : "true");
        say(status, a.available ? a.name + " is available" : a.message, a.available);
      })
      .catch(function () { /* the server decides on submit anyway */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(check, 250);
  });

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = {};
    new FormData(form).forEach(function (v, k) { data[k] = v; });
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(data)
    })
      .then(function (r) { return r.json().then(function (body) { return { status: r.status, body: body }; }); })
      .then(function (res) {
        var done = document.createElement("div");
        done.setAttribute("role", "status");
        var h = document.createElement("h2");
        var p = document.createElement("p");
        if (res.status === 201) {
          h.textContent = "Your site is ready";
          p.textContent = "It will be online at " + res.body.url + " in a few minutes. Manage it at ";
          var admin = document.createElement("a");
          admin.href = res.body.login;
          admin.textContent = res.body.login;
          p.appendChild(admin);
          p.appendChild(document.createTextNode(" (log in as admin)."));
        } else if (res.status === 202) {
          h.textContent = "Check your email";
          p.textContent = "We sent a link to " + res.body.email + ". Open it to create " + res.body.tenant + "; until then the name is reserved for you.";
        } else {
          button.disabled = false;
          var msg = res.body && res.body.error ? res.body.error.message : "Something went wrong; please try again.";
          say(status, msg, false);
          input.focus();
          return;
        }
        done.appendChild(h);
        done.appendChild(p);
        form.replaceWith(done);
      })
      .catch(function () {
        button.disabled = false;
        say(status, "The server could not be reached; please try again.", false);
      });
  });
})();
