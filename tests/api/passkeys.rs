//! Passkeys (SPEC §9): in a real Chromium with a virtual authenticator on
//! `http://localhost:PORT` — add one on the account page, sign out, sign in with it (no email,
//! no code), remove it — and the TOTP page flow end to end. Behind an IP public URL the buttons
//! are hidden with the reason, and the API says why.

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::helpers::{
    Backend, TestApp, backend_tests, error_code, on_localhost, set_cookies, spawn_app, spawn_app_on,
    spawn_app_with,
};
use portcullis_testkit::Browser;

backend_tests!(
    behind_an_ip_address_passkeys_are_off_with_the_reason,
    made_up_or_replayed_passkey_answers_are_refused,
);

/// The app on SQLite at `http://localhost:PORT`: WebAuthn needs a host name.
async fn app_on_localhost() -> TestApp {
    spawn_app_on(Backend::Sqlite, on_localhost).await
}

fn localhost(app: &TestApp) -> String {
    app.address.replace("127.0.0.1", "localhost")
}

async fn behind_an_ip_address_passkeys_are_off_with_the_reason() {
    let app = spawn_app().await;
    let login = app.get("/login").await.text().await.unwrap();
    assert!(
        login.contains("Passkeys need a host name") && !login.contains("id=\"passkey-sign-in\""),
        "{login}"
    );
    assert!(!login.contains("passkeys.js"), "no script where it has nothing to do");
    let res = app.post_json("/api/auth/passkey/options", &json!({})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "passkeys_unavailable");
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let list = reqwest::Client::new()
        .get(app.url("/api/account/passkeys"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(list.json::<Value>().await.unwrap(), json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_host_name_the_login_page_offers_a_passkey_and_serves_the_one_script() {
    let app = app_on_localhost().await;
    let login = app.get("/login").await.text().await.unwrap();
    assert!(
        login.contains("id=\"passkey-sign-in\"") && login.contains("hidden"),
        "hidden until the script runs"
    );
    assert!(login.contains("<script src=\"/static/js/passkeys.js\" defer></script>"));
    let script = app.get("/static/js/passkeys.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let res = app.client.post(app.url("/api/auth/passkey/options")).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["ceremony"].as_str().is_some() && body["options"]["publicKey"]["challenge"].is_string(),
        "{body}"
    );
    assert_eq!(body["options"]["publicKey"]["rpId"], "localhost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_passkey_is_added_signs_in_without_a_password_and_is_removed() {
    let Some(browser) = Browser::start().await else { return };
    let app = app_on_localhost().await;
    let base = localhost(&app);
    let user = app.add_user(Role::User);
    browser.add_virtual_authenticator().await;
    browser.sign_in(&base, &user.email, &user.password, false).await;

    browser.goto(&format!("{base}/account/2fa")).await;
    let text = browser.wait_for_text("Add a passkey").await;
    assert!(text.contains("Add a passkey"), "{text}");
    browser.fill("#passkey-name", "Test laptop").await;
    browser.fill("#passkey-password", "not my password at all").await;
    browser.click("#passkey-add").await;
    let text = browser.wait_for_text("not your current password").await;
    assert!(text.contains("not your current password"), "adding a passkey takes the password: {text}");
    browser.fill("#passkey-password", &user.password).await;
    browser.click("#passkey-add").await;
    let text = browser.wait_for_text("The passkey is added").await;
    assert!(text.contains("The passkey is added") && text.contains("Test laptop"), "{text}");
    assert_eq!(app.event_kinds(&user)[0], "passkey_added");

    // A passkey alone does not turn the code step on for password sign-ins.
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_text("Sign in with a passkey").await;
    browser.sign_in(&base, &user.email, &user.password, false).await;
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_text("Sign in with a passkey").await;
    browser.goto(&format!("{base}/login?next=/account/2fa")).await;
    browser.click("#passkey-sign-in").await;
    let text = browser.wait_for_text("Passkeys").await;
    assert_eq!(browser.path().await, "/account/2fa", "signed in, no email and no code: {text}");
    assert!(text.contains("Test laptop") && !text.contains("Never"), "last used is shown: {text}");
    let kinds = app.event_kinds(&user);
    assert_eq!(kinds[0], "login_succeeded");
    assert!(!kinds.contains(&"mfa_challenged".to_owned()));

    // The account page lists it too, and removes it from there.
    browser.goto(&format!("{base}/account")).await;
    let text = browser.wait_for_text("Test laptop").await;
    assert!(text.contains("1 passkey") && text.contains("Add a passkey"), "{text}");
    browser.click("form[action^='/account/2fa/passkeys/'] button").await;
    browser.wait_for_text("The passkey is removed").await;
    assert_eq!(browser.path().await, "/account");
    let left = browser
        .run("return document.querySelectorAll(\"form[action^='/account/2fa/passkeys/']\").length;")
        .await;
    assert_eq!(left, 0, "no passkey is listed any more");
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_text("Sign in with a passkey").await;
    browser.click("#passkey-sign-in").await;
    let text = browser.wait_for_text("not registered here").await;
    assert!(text.contains("not registered here"), "a removed passkey signs nobody in: {text}");
    assert_eq!(browser.path().await, "/login");
    browser.quit().await;
    let notices: i64 = {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl, TextExpressionMethods};
        use portcullis::db::schema::outbox;
        let mut conn = app.pool.get().unwrap();
        outbox::table
            .filter(outbox::recipient.eq(&user.email))
            .filter(outbox::subject.like("%sign-in settings changed%"))
            .count()
            .get_result(&mut **conn)
            .unwrap()
    };
    assert_eq!(notices, 2, "adding and removing a passkey are both mailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_totp_is_turned_on_and_asked_for_at_the_next_sign_in() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let user = app.add_user(Role::User);
    browser.sign_in(&app.address, &user.email, &user.password, false).await;
    browser.goto(&app.url("/account")).await;
    browser.click("a[href='/account/2fa']").await;
    browser.wait_for_text("to set up an authenticator app").await;
    browser.fill("#setup_password", &user.password).await;
    browser.click("form[action='/account/2fa/totp'] button").await;
    browser.wait_for_text("Scan this QR code").await;
    let secret = browser.run("return document.getElementById('totp-secret').textContent;").await;
    let secret = Secret::try_from_base32(secret.as_str().unwrap().trim()).unwrap();
    let totp = Builder::new().with_secret(secret).build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    browser.fill("#code", &totp.generate(now).to_string()).await;
    browser.click("form[action='/account/2fa/totp/confirm'] button").await;
    let text = browser.wait_for_text("Your recovery codes").await;
    assert!(text.contains("shown only now") && text.contains("Turn off two-factor sign-in"), "{text}");

    browser.click("form[action='/logout'] button").await;
    browser.wait_for_text("Sign in").await;
    browser.goto(&app.url("/login")).await;
    browser.fill("#email", &user.email).await;
    browser.fill("#password", &user.password).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    browser.wait_for_text("Authentication code").await;
    browser.fill("#code", "000000").await;
    browser.click("form[action='/login/mfa'] button").await;
    let text = browser.wait_for_text("attempts left").await;
    assert!(text.contains("attempts left"), "{text}");
    browser.fill("#code", &totp.generate(now + 30).to_string()).await;
    browser.click("form[action='/login/mfa'] button").await;
    browser.wait_for_text("Your account").await;
    assert_eq!(browser.path().await, "/account");
    browser.quit().await;
}

async fn made_up_or_replayed_passkey_answers_are_refused() {
    let app = spawn_app_with(on_localhost).await;
    let start: Value = app.post_json("/api/auth/passkey/options", &json!({})).await.json().await.unwrap();
    let ceremony = start["ceremony"].as_str().unwrap();
    let garbage =
        app.post_json("/api/auth/passkey", &json!({"ceremony": ceremony, "credential": {"id": 1}})).await;
    assert_eq!(garbage.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(garbage).await, "invalid_credential");
    // Well-formed, but signed by no authenticator this server knows.
    let forged = json!({
        "id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"authenticatorData": "AAAA", "clientDataJSON": "AAAA", "signature": "AAAA", "userHandle": "AAAAAAAAAAAAAAAAAAAAAA"},
        "extensions": {}
    });
    let res = app.post_json("/api/auth/passkey", &json!({"ceremony": ceremony, "credential": forged})).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(res.headers()).iter().all(|c| !c.starts_with("access_token=")));
    assert_eq!(error_code(res).await, "passkey_rejected");
    let replay =
        app.post_json("/api/auth/passkey", &json!({"ceremony": ceremony, "credential": forged})).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "a ceremony is single use");
    assert_eq!(error_code(replay).await, "passkey_expired");

    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let bearer = reqwest::Client::new();
    let mine: Value = bearer
        .post(app.url("/api/account/passkeys/options"))
        .bearer_auth(&token)
        .json(&json!({"password": user.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let selection = &mine["options"]["publicKey"]["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required", "discoverable, for sign-in without an email: {mine}");
    assert_eq!(selection["userVerification"], "required");
    let other = app.add_user(Role::User);
    let theirs = app.bearer_for(&other).await;
    let body = json!({"ceremony": mine["ceremony"], "name": "stolen", "credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
        "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"}, "extensions": {}}});
    let res =
        bearer.post(app.url("/api/account/passkeys")).bearer_auth(&theirs).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "another account's ceremony");
    assert_eq!(error_code(res).await, "passkey_expired");
    let gone = bearer.delete(app.url("/api/account/passkeys/nope")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
