//! The JSON twins of page actions (SPEC §4): registration, signing out the other sessions, and
//! the security events — with the same rules as the pages. The password change's twin is in
//! `password_change.rs`.

use portcullis::config::Registration;
use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, backend_tests, error_code, set_cookie, set_cookies, spawn_app, spawn_app_with,
};

const STRONG: &str = "a long and unusual passphrase for the api";

backend_tests!(
    registering_through_the_api_follows_the_registration_mode,
    the_api_signs_out_the_other_sessions,
    the_api_lists_the_callers_security_events,
);

async fn register(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_json("/api/auth/register", &json!({"email": email, "password": password})).await
}

async fn registering_through_the_api_follows_the_registration_mode() {
    let app = spawn_app().await;
    let res = register(&app, "new@example.com", STRONG).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(set_cookie(&set_cookies(res.headers()), "access_token").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["email"].as_str(), body["role"].as_str()), (Some("new@example.com"), Some("user")));
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "signed in at once");

    let taken = register(&app, "NEW@example.com", STRONG).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(taken).await, "email_taken");
    let weak = register(&app, "other@example.com", "password").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = weak.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().starts_with("password:"), "the field is named: {body}");
    let bad = register(&app, "not an address", STRONG).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(bad).await, "invalid_email");

    let verify = spawn_app_with(|s| s.registration = Registration::Verify).await;
    let existing = verify.add_user(Role::User);
    for email in ["fresh@example.com", existing.email.as_str()] {
        let res = register(&verify, email, STRONG).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "{email}: the same answer for new and taken");
        assert!(set_cookies(res.headers()).is_empty());
    }
    let closed = spawn_app_with(|s| s.registration = Registration::Closed).await;
    assert_eq!(register(&closed, "x@example.com", STRONG).await.status(), StatusCode::NOT_FOUND);
}

async fn the_api_signs_out_the_other_sessions() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let mine = app.bearer_for(&user).await;
    let other = app.bearer_for(&user).await;
    let res =
        app.client.post(app.url("/api/sessions/revoke-others")).bearer_auth(&mine).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_with_bearer(&other).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.me_with_bearer(&mine).await.status(), StatusCode::OK);
    let anonymous = reqwest::Client::new().post(app.url("/api/sessions/revoke-others")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

async fn the_api_lists_the_callers_security_events() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    assert_eq!(app.token(&user.email, "a wrong password entirely").await.status(), StatusCode::BAD_REQUEST);
    let token = app.bearer_for(&user).await;
    let res =
        reqwest::Client::new().get(app.url("/api/account/events")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let events: Vec<Value> = res.json().await.unwrap();
    let kinds: Vec<String> = events.iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, app.event_kinds(&user), "the stored events, newest first");
    assert!(events.iter().all(|e| e["at"].as_str().is_some_and(|t| t.ends_with('Z')) && e["ip"].is_string()));
    let someone_else = app.add_user(Role::User);
    let theirs = app.bearer_for(&someone_else).await;
    let res =
        reqwest::Client::new().get(app.url("/api/account/events")).bearer_auth(&theirs).send().await.unwrap();
    let events: Vec<Value> = res.json().await.unwrap();
    assert!(events.len() < kinds.len(), "only the caller's own");
}
