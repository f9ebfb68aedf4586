//! SPEC §9's two rules for every credential, through the front door on both backends. Adding a
//! credential takes the password: a session or an access token alone (the kind other services
//! receive) never adds an authenticator app or a passkey. A credential change ends what was
//! issued under the old one: links, code steps (`two_factor::a_password_changed_during_…`),
//! passkey ceremonies and pending authenticator apps. Passkeys are made by a software
//! authenticator (webauthn-authenticator-rs) against the real server.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, backend_tests, error_code, spawn_app_with, spawn_app_with_mail};
use crate::helpers::{add_passkey, on_localhost, passkey_options, soft_register};
use portcullis::domain::Role;
use portcullis_testkit::SmtpSink;

backend_tests!(
    an_access_token_alone_never_adds_a_passkey_or_an_authenticator_app,
    password_checks_for_a_new_credential_are_throttled,
    a_pending_authenticator_app_is_confirmed_only_by_the_session_that_gave_the_password,
    a_passkey_ceremony_begun_before_a_password_change_cannot_finish,
    a_pending_email_change_dies_with_a_password_reset,
    reset_links_die_with_an_email_change_or_a_password_change,
    disabling_an_account_ends_its_links_for_good,
    a_passkey_name_loses_what_hides_or_reverses_text,
);

const NEW_PASSWORD: &str = "a brand new passphrase for this account";

async fn passkeys_of(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app.bearer_call(token, Method::GET, "/api/account/passkeys", None).await;
    list.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

async fn an_access_token_alone_never_adds_a_passkey_or_an_authenticator_app() {
    let app = spawn_app_with(on_localhost).await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    for body in [None, Some(json!({})), Some(json!({"password": "not the password at all"}))] {
        let res = passkey_options(&app, &token, body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        assert_eq!(error_code(res).await, "wrong_password");
        let res = app.bearer_call(&token, Method::POST, "/api/account/2fa/totp", body.clone()).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        assert_eq!(error_code(res).await, "wrong_password");
    }
    let state: Value =
        app.bearer_call(&token, Method::GET, "/api/account/2fa", None).await.json().await.unwrap();
    assert_eq!(state["totp_pending"], false, "no secret was made: {state}");
    assert!(passkeys_of(&app, &token).await.is_empty());
    // With the password it works, end to end.
    let added = add_passkey(&app, &token, &user.password, "Work laptop").await;
    assert_eq!(added.status(), StatusCode::CREATED);
    assert_eq!(passkeys_of(&app, &token).await.len(), 1);
    let started = app
        .bearer_call(&token, Method::POST, "/api/account/2fa/totp", Some(json!({"password": user.password})))
        .await;
    assert_eq!(started.status(), StatusCode::OK);
    let kinds = app.event_kinds(&user);
    assert_eq!(kinds.iter().filter(|k| *k == "password_check_failed").count(), 2, "{kinds:?}");
}

async fn password_checks_for_a_new_credential_are_throttled() {
    let app = spawn_app_with(on_localhost).await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let wrong = json!({"password": "not the password at all"});
    for n in 0..5 {
        let path = if n % 2 == 0 { "/api/account/passkeys/options" } else { "/api/account/2fa/totp" };
        let res = app.bearer_call(&token, Method::POST, path, Some(wrong.clone())).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "guess {n}");
    }
    let right = json!({"password": user.password});
    let res = passkey_options(&app, &token, Some(right.clone())).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "paused, even for the right password");
    assert!(res.headers().contains_key("retry-after"));
    let res = app.bearer_call(&token, Method::POST, "/api/account/2fa/totp", Some(right)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// The current code of a base32 secret.
fn code_now(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).expect("base32");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp_rs::Builder::new().with_secret(secret).build().unwrap().generate(now).to_string()
}

async fn start_totp(app: &TestApp, token: &str, user: &TestUser) -> String {
    let body = json!({"password": user.password});
    let started = app.bearer_call(token, Method::POST, "/api/account/2fa/totp", Some(body)).await;
    assert_eq!(started.status(), StatusCode::OK);
    started.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned()
}

async fn confirm(app: &TestApp, token: &str, secret: &str) -> reqwest::Response {
    let body = json!({"code": code_now(secret)});
    app.bearer_call(token, Method::POST, "/api/account/2fa/totp/confirm", Some(body)).await
}

async fn a_pending_authenticator_app_is_confirmed_only_by_the_session_that_gave_the_password() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.add_user(Role::User);
    let (mine, stolen) = (app.bearer_for(&user).await, app.bearer_for(&user).await);
    let secret = start_totp(&app, &mine, &user).await;
    // Another session of the account — a token another service received — cannot finish it,
    // nor see the secret on the page.
    let res = confirm(&app, &stolen, &secret).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "totp_not_pending");
    app.login_as(&user).await;
    let page = app.get("/account/2fa").await.text().await.unwrap();
    assert!(!page.contains(&secret) && !page.contains("totp-secret"), "{page}");
    assert_eq!(confirm(&app, &mine, &secret).await.status(), StatusCode::OK);

    // A pending secret made without a password check (as every one was before) is refused.
    let other = app.add_user(Role::User);
    let token = app.bearer_for(&other).await;
    let secret = start_totp(&app, &token, &other).await;
    {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use portcullis::db::schema::totp_factors as t;
        let mut conn = app.pool.get().unwrap();
        diesel::update(t::table.find(&other.id))
            .set(t::checked_session.eq(None::<String>))
            .execute(&mut **conn)
            .unwrap();
    }
    assert_eq!(error_code(confirm(&app, &token, &secret).await).await, "totp_not_pending");

    // A password change between the start and the confirmation ends the pending secret.
    let third = app.add_user(Role::User);
    let token = app.bearer_for(&third).await;
    let secret = start_totp(&app, &token, &third).await;
    let change = json!({"current_password": third.password, "new_password": NEW_PASSWORD});
    let changed = app.bearer_call(&token, Method::POST, "/api/account/password", Some(change)).await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(error_code(confirm(&app, &token, &secret).await).await, "totp_not_pending");
    assert_eq!(app.token(&third.email, NEW_PASSWORD).await.status(), StatusCode::OK, "no code step");
}

async fn a_passkey_ceremony_begun_before_a_password_change_cannot_finish() {
    let app = spawn_app_with(on_localhost).await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let started: Value =
        passkey_options(&app, &token, Some(json!({"password": user.password}))).await.json().await.unwrap();
    let credential = soft_register(&app, &started["options"]);
    let change = json!({"current_password": user.password, "new_password": NEW_PASSWORD});
    let changed = app.bearer_call(&token, Method::POST, "/api/account/password", Some(change)).await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let body = json!({"ceremony": started["ceremony"], "name": "planted", "credential": credential});
    let res = app.bearer_call(&token, Method::POST, "/api/account/passkeys", Some(body)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "the ceremony ended with the old password");
    assert_eq!(error_code(res).await, "passkey_expired");
    assert!(passkeys_of(&app, &token).await.is_empty());
    assert_eq!(add_passkey(&app, &token, NEW_PASSWORD, "mine").await.status(), StatusCode::CREATED);
}

fn token_in(link: &str) -> String {
    link.split("token=").nth(1).expect("a token in the link").to_owned()
}

/// The `n`-th mail to `to` whose subject has `subject`, waiting for it.
async fn mail_link(sink: &SmtpSink, to: &str, subject: &str, path: &str) -> String {
    for _ in 0..100 {
        let found = sink.received().into_iter().rfind(|m| m.to == to && m.subject().contains(subject));
        if let Some(mail) = found {
            return mail.link(path).expect("a link");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail to {to} about {subject:?}: {:?}", sink.received());
}

async fn reset_link(app: &TestApp, sink: &SmtpSink, email: &str) -> String {
    let before = sink.received().len();
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": email})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    for _ in 0..100 {
        if let Some(mail) =
            sink.received().into_iter().skip(before).find(|m| m.to == email && m.subject().contains("Reset"))
        {
            return token_in(&mail.link("/reset-password?token=").expect("a reset link"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no reset mail to {email}");
}

async fn reset(app: &TestApp, token: &str, password: &str) -> StatusCode {
    app.post_json("/api/auth/reset-password", &json!({"token": token, "password": password})).await.status()
}

async fn ask_to_move(app: &TestApp, token: &str, user: &TestUser, to: &str) {
    let body = json!({"new_email": to, "current_password": user.password});
    let res = app.bearer_call(token, Method::POST, "/api/account/email", Some(body)).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

fn email_of(app: &TestApp, user: &TestUser) -> String {
    use diesel::{QueryDsl, RunQueryDsl};
    use portcullis::db::schema::users;
    let mut conn = app.pool.get().unwrap();
    users::table.find(&user.id).select(users::email).first(&mut **conn).unwrap()
}

async fn a_pending_email_change_dies_with_a_password_reset() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    // Someone who knows the password asks to move the account to their own address…
    let attacker = app.bearer_for(&user).await;
    let theirs = "attacker@evil.example";
    ask_to_move(&app, &attacker, &user, theirs).await;
    let change = token_in(&mail_link(&sink, theirs, "Confirm your new email", "/verify-email?token=").await);
    // …the owner, warned by the notice, resets the password…
    let notice = sink.wait_for(&user.email, 1).await.remove(0);
    assert!(notice.subject().contains("email address was requested"), "{notice:?}");
    let link = reset_link(&app, &sink, &user.email).await;
    assert_eq!(reset(&app, &link, NEW_PASSWORD).await, StatusCode::NO_CONTENT);
    assert_eq!(app.me_with_bearer(&attacker).await.status(), StatusCode::UNAUTHORIZED);
    // …and the old change link is dead.
    let res = app.post_json("/api/auth/verify-email", &json!({"token": change})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "invalid_link");
    assert_eq!(email_of(&app, &user), user.email);
    let page = app.get(&format!("/verify-email?token={change}")).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST, "the page offers no confirm button either");
}

async fn reset_links_die_with_an_email_change_or_a_password_change() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    // A reset link sent to the old address dies when the address changes.
    let to_old = reset_link(&app, &sink, &user.email).await;
    let moved = format!("moved-{}", user.email);
    ask_to_move(&app, &token, &user, &moved).await;
    let change = token_in(&mail_link(&sink, &moved, "Confirm your new email", "/verify-email?token=").await);
    let res = app.post_json("/api/auth/verify-email", &json!({"token": change})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(email_of(&app, &user), moved);
    assert_eq!(reset(&app, &to_old, NEW_PASSWORD).await, StatusCode::BAD_REQUEST);
    let page = app.get(&format!("/reset-password?token={to_old}")).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);

    // One sent before a password change dies with it.
    let before_change = reset_link(&app, &sink, &moved).await;
    let change = json!({"current_password": user.password, "new_password": NEW_PASSWORD});
    let changed = app.bearer_call(&token, Method::POST, "/api/account/password", Some(change)).await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        reset(&app, &before_change, "yet another long passphrase here").await,
        StatusCode::BAD_REQUEST
    );

    // A good one works, and its notice goes to the address the account has now.
    let notices_to_old = |sink: &SmtpSink| {
        sink.received().iter().filter(|m| m.to == user.email && m.subject().contains("was changed")).count()
    };
    let old_notices = notices_to_old(&sink);
    let fresh = reset_link(&app, &sink, &moved).await;
    assert_eq!(reset(&app, &fresh, "yet another long passphrase here").await, StatusCode::NO_CONTENT);
    mail_link(&sink, &moved, "was changed", "/forgot-password").await;
    assert_eq!(notices_to_old(&sink), old_notices, "nothing to the address the account left");
}

async fn disabling_an_account_ends_its_links_for_good() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let link = reset_link(&app, &sink, &user.email).await;
    let token = app.bearer_for(&admin).await;
    for action in ["disable", "enable"] {
        let path = format!("/api/admin/users/{}/{action}", user.id);
        assert_eq!(app.bearer_call(&token, Method::POST, &path, None).await.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(reset(&app, &link, NEW_PASSWORD).await, StatusCode::BAD_REQUEST, "not revived by enabling");
    let fresh = reset_link(&app, &sink, &user.email).await;
    assert_eq!(reset(&app, &fresh, NEW_PASSWORD).await, StatusCode::NO_CONTENT);
}

/// A name with U+202E would turn the rest of an events-table row and of the mail's sentence
/// around; zero-width characters make two names read alike.
async fn a_passkey_name_loses_what_hides_or_reverses_text() {
    let app = spawn_app_with(on_localhost).await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let added = add_passkey(&app, &token, &user.password, "Work\u{202E} lap\u{200B}top\u{2066}\u{7}").await;
    assert_eq!(added.status(), StatusCode::CREATED);
    assert_eq!(added.json::<Value>().await.unwrap()["name"], "Work laptop");
    assert_eq!(passkeys_of(&app, &token).await[0]["name"], "Work laptop");
}
