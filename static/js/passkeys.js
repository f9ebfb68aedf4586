// Passkeys: the one script Portcullis serves. Everything else on every page works without it;
// the passkey buttons stay hidden where it does not run or the browser has no WebAuthn.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) {
    return;
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  async function post(path, body) {
    var res = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) {
      throw new Error(data.message || "Something went wrong. Please try again.");
    }
    return data;
  }

  function explain(status, error) {
    status.textContent = error && error.name === "NotAllowedError"
      ? "The passkey prompt was closed or timed out. Try again."
      : error && error.name === "InvalidStateError"
        ? "This device already holds a passkey for your account."
        : (error && error.message) || "Something went wrong. Please try again.";
    status.hidden = false;
  }

  var signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    signIn.hidden = false;
    signIn.addEventListener("click", async function () {
      var status = document.getElementById("passkey-status");
      status.hidden = true;
      try {
        var start = await post("/api/auth/passkey/options");
        var credential = await navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(start.options.publicKey),
        });
        var remember = document.querySelector("input[name=remember]");
        await post("/api/auth/passkey", {
          ceremony: start.ceremony,
          credential: credential.toJSON(),
          remember: Boolean(remember && remember.checked),
        });
        window.location.assign(signIn.dataset.next || "/account");
      } catch (error) {
        explain(status, error);
      }
    });
  }

  var add = document.getElementById("passkey-add");
  if (add) {
    document.getElementById("passkey-add-form").hidden = false;
    add.addEventListener("click", async function () {
      var status = document.getElementById("passkey-status");
      status.hidden = true;
      try {
        var password = document.getElementById("passkey-password");
        var start = await post("/api/account/passkeys/options", { password: password ? password.value : "" });
        var credential = await navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(start.options.publicKey),
        });
        await post("/api/account/passkeys", {
          ceremony: start.ceremony,
          name: document.getElementById("passkey-name").value,
          credential: credential.toJSON(),
        });
        window.location.assign(add.dataset.done || "/account/2fa?done=passkey-added");
      } catch (error) {
        explain(status, error);
      }
    });
  }
})();
