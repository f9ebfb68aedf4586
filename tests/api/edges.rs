//! Sessions at their edges (issue 9): after the access token expired while the refresh cookie
//! is still good — the normal state of every idle tab — everything a signed-in person can do
//! still works, and signing out always ends the session the refresh cookie names.

use std::sync::Arc;
use std::time::Duration;

use portcullis::domain::Role;
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestUser, client_with, error_code, set_cookie, set_cookies, spawn_app_with,
};

/// Signed in through the form with one-second access tokens, then left idle until the access
/// token has expired (the refresh cookie is still good).
async fn idle_past_the_access_token(remember: bool) -> (TestApp, TestUser) {
    let app = spawn_app_with(|s| {
        s.access_ttl = Duration::from_secs(1);
        s.clock_leeway = Duration::ZERO;
    })
    .await;
    let user = app.add_user(Role::User);
    let res = app.login_form(&user.email, &user.password, remember).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(app.get("/api/me").await.status(), StatusCode::UNAUTHORIZED, "the access token has expired");
    (app, user)
}

/// Whether the refresh token still yields a pair at the token endpoint.
async fn refresh_works(app: &TestApp, refresh_token: &str) -> bool {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    app.post_form("/api/auth/token", &form).await.status() == StatusCode::OK
}

async fn page_sign_out_after_the_access_token_expired_ends_the_session() {
    let (app, user) = idle_past_the_access_token(false).await;
    let refresh = app.cookie("refresh_token").unwrap();
    let csrf = app.cookie("csrf_token").unwrap();
    let res = app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    let cookies = set_cookies(res.headers());
    let cleared = set_cookie(&cookies, "refresh_token").expect("the refresh cookie is cleared");
    assert!(cleared.starts_with("refresh_token=;"), "{cleared}");
    assert!(!refresh_works(&app, &refresh).await, "the session the refresh cookie named has ended");
    assert!(app.event_kinds(&user).contains(&"logged_out".to_owned()));
}

async fn api_sign_out_after_the_access_token_expired_ends_the_session() {
    let (app, _) = idle_past_the_access_token(true).await;
    let refresh = app.cookie("refresh_token").unwrap();
    let res = app.api_post("/api/auth/logout").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(!refresh_works(&app, &refresh).await, "the session the refresh cookie named has ended");
}

/// A remember-me SPA after a browser restart: only the refresh cookie survived.
async fn a_browser_with_only_the_refresh_cookie_gets_a_csrf_token_that_refreshes() {
    let (app, _) = idle_past_the_access_token(true).await;
    let refresh = app.cookie("refresh_token").unwrap();
    let jar = Arc::new(Jar::default());
    jar.add_cookie_str(&format!("refresh_token={refresh}; Path=/"), &app.address.parse().unwrap());
    let restarted = client_with(jar);
    let body: Value = restarted.get(app.url("/api/auth/csrf")).send().await.unwrap().json().await.unwrap();
    let token = body["csrf_token"].as_str().unwrap();
    let res =
        restarted.post(app.url("/api/auth/refresh")).header("x-csrf-token", token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "still signed in: remember me was ticked");
    let me = restarted.get(app.url("/api/me")).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

async fn revoke_buttons_and_password_change_work_after_the_access_token_expired() {
    let (app, user) = idle_past_the_access_token(false).await;
    let other = reqwest::Client::new();
    let token = other
        .post(app.url("/api/auth/token"))
        .form(&[("grant_type", "password"), ("username", &user.email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    let csrf = app.cookie("csrf_token").unwrap();
    let res = app.post_form("/account/sessions/revoke-others", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account?done=others", "not bounced to the sign-in page");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let new = "a brand new passphrase for today";
    let form = [("current_password", PASSWORD), ("new_password", new), ("csrf_token", &csrf)];
    let res = app.post_form("/account/password", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account?done=password");
    assert_eq!(app.token(&user.email, new).await.status(), StatusCode::OK);
}

async fn api_state_changes_work_on_the_refresh_cookie_alone() {
    let (app, user) = idle_past_the_access_token(false).await;
    let other = app.bearer_for(&user).await;
    let sessions: Vec<Value> = reqwest::Client::new()
        .get(app.url("/api/sessions"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let theirs = sessions.iter().find(|s| s["current"] == json!(true)).unwrap()["id"].as_str().unwrap();
    let csrf = app.cookie("csrf_token").unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/sessions/{theirs}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await;
    assert_eq!(res.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_with_bearer(&other).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "refreshed in place on the way");
}

async fn a_forged_post_after_the_access_token_expired_rotates_nothing() {
    let (app, _) = idle_past_the_access_token(false).await;
    let refresh = app.cookie("refresh_token").unwrap();
    let res = app.post_form("/account/sessions/revoke-others", &[("csrf_token", "forged.token")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&set_cookies(res.headers()), "refresh_token").is_none(), "no rotation for a forgery");
    assert_eq!(app.cookie("refresh_token").unwrap(), refresh);
    let api = app.client.delete(app.url("/api/sessions/whatever")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(api).await, "csrf_failed");
    assert_eq!(app.cookie("refresh_token").unwrap(), refresh);
}

crate::helpers::backend_tests!(
    page_sign_out_after_the_access_token_expired_ends_the_session,
    api_sign_out_after_the_access_token_expired_ends_the_session,
    a_browser_with_only_the_refresh_cookie_gets_a_csrf_token_that_refreshes,
    revoke_buttons_and_password_change_work_after_the_access_token_expired,
    api_state_changes_work_on_the_refresh_cookie_alone,
    a_forged_post_after_the_access_token_expired_rotates_nothing,
);
