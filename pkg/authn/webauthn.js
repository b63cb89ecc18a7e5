// Security-key ceremonies for Tenure's sign-in pages. The pages work without this script (TOTP);
// it only adds the buttons the browser's WebAuthn API needs. Binary fields travel as base64url.
(function () {
  "use strict";
  if (!window.PublicKeyCredential) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function bytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function b64url(buf) {
    var bin = "", a = new Uint8Array(buf);
    for (var i = 0; i < a.length; i++) bin += String.fromCharCode(a[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; });
    });
  }
  function status(text) { document.getElementById("webauthn-status").textContent = text; }
  function ids(list) { (list || []).forEach(function (c) { c.id = bytes(c.id); }); }

  var reg = document.getElementById("webauthn-register");
  if (reg) {
    document.getElementById("webauthn-add").hidden = false;
    reg.addEventListener("click", function () {
      var name = document.getElementById("key-name").value;
      post("/mfa/webauthn/register/begin").then(function (o) {
        var pk = o.publicKey;
        pk.challenge = bytes(pk.challenge);
        pk.user.id = bytes(pk.user.id);
        ids(pk.excludeCredentials);
        return navigator.credentials.create({ publicKey: pk });
      }).then(function (c) {
        return post("/mfa/webauthn/register/finish?name=" + encodeURIComponent(name), {
          id: c.id, rawId: b64url(c.rawId), type: c.type,
          response: {
            attestationObject: b64url(c.response.attestationObject),
            clientDataJSON: b64url(c.response.clientDataJSON),
            transports: c.response.getTransports ? c.response.getTransports() : []
          },
          clientExtensionResults: c.getClientExtensionResults()
        });
      }).then(function () { location.reload(); }, function () { status(reg.dataset.failed); });
    });
  }

  var login = document.getElementById("webauthn-login");
  if (login) {
    login.hidden = false;
    login.addEventListener("click", function () {
      post("/mfa/webauthn/login/begin").then(function (o) {
        var pk = o.publicKey;
        pk.challenge = bytes(pk.challenge);
        ids(pk.allowCredentials);
        return navigator.credentials.get({ publicKey: pk });
      }).then(function (a) {
        return post("/mfa/webauthn/login/finish?next=" + encodeURIComponent(login.dataset.next), {
          id: a.id, rawId: b64url(a.rawId), type: a.type,
          response: {
            authenticatorData: b64url(a.response.authenticatorData),
            clientDataJSON: b64url(a.response.clientDataJSON),
            signature: b64url(a.response.signature),
            userHandle: a.response.userHandle ? b64url(a.response.userHandle) : null
          },
          clientExtensionResults: a.getClientExtensionResults()
        });
      }).then(function (r) { location.assign(r.next); }, function () { status(login.dataset.failed); });
    });
  }
})();
