//! Changing the password while signed in (SPEC §5, §9): the page and its JSON twin, what a wrong
//! current password or a weak new one changes (nothing), what the change ends (every other
//! session, refresh tokens from before it), the mailed notice, guessing the current password,
//! and two changes racing. Links and code steps a change ends are in `credentials.rs`.

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use tokio::task::JoinSet;

use crate::helpers::{
    PASSWORD, TestApp, TestUser, client_with, error_code, set_cookie, set_cookies, spawn_app,
    spawn_app_with_mail,
};
use portcullis_testkit::SmtpSink;

const NEW_PASSWORD: &str = "marmalade glacier bicycle lantern";
const WRONG: &str = "certainly not the password";
const STRONG: &str = "a long and unusual passphrase for the api";

async fn changing_the_password_ends_other_sessions_and_reissues_this_one() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let old_refresh = app.cookie("refresh_token").unwrap();
    let (other_access, _) = app.token_pair(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let form = [
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
        ("new_password_confirm", NEW_PASSWORD),
        ("csrf_token", &csrf),
    ];
    let res = app.post_form("/account/password", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account?done=password");
    assert_eq!(
        app.me_with_bearer(&other_access).await.status(),
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "this session continues");
    assert_ne!(app.cookie("refresh_token").unwrap(), old_refresh, "and gets new tokens");
    let old = app
        .post_form("/api/auth/token", &[("grant_type", "refresh_token"), ("refresh_token", &old_refresh)])
        .await;
    assert_eq!(old.status(), StatusCode::BAD_REQUEST, "refresh tokens from before the change are dead");
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.token(&user.email, NEW_PASSWORD).await.status(), StatusCode::OK);
}

async fn a_wrong_current_password_or_weak_new_one_changes_nothing() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let cases = [
        ("not my password at all", NEW_PASSWORD, "not correct"),
        (PASSWORD, "passwordpassword", "too common"),
        (PASSWORD, "short", "at least 15"),
    ];
    for (current, new, message) in cases {
        let res = app
            .post_form(
                "/account/password",
                &[("current_password", current), ("new_password", new), ("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(res.text().await.unwrap().contains(message), "{message}");
    }
    let no_csrf = app
        .post_form("/account/password", &[("current_password", PASSWORD), ("new_password", NEW_PASSWORD)])
        .await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::OK);
}

async fn change_password(app: &TestApp, body: &Value, csrf: bool) -> reqwest::Response {
    let mut req = app.client.post(app.url("/api/account/password")).json(body);
    if csrf {
        req = req.header("x-csrf-token", app.cookie("csrf_token").unwrap_or_default());
    }
    req.send().await.unwrap()
}

async fn the_api_changes_the_password_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let elsewhere = app.bearer_for(&user).await;
    let body = json!({"current_password": user.password, "new_password": STRONG});
    assert_eq!(
        change_password(&app, &body, false).await.status(),
        StatusCode::FORBIDDEN,
        "CSRF header needed"
    );

    let wrong =
        change_password(&app, &json!({"current_password": "not it at all", "new_password": STRONG}), true)
            .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(wrong).await, "wrong_password");
    let weak =
        change_password(&app, &json!({"current_password": user.password, "new_password": "short"}), true)
            .await;
    let message: Value = weak.json().await.unwrap();
    assert!(message["message"].as_str().unwrap().starts_with("new_password:"), "{message}");

    let res = change_password(&app, &body, true).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(set_cookie(&set_cookies(res.headers()), "refresh_token").is_some(), "fresh cookies");
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "this session goes on");
    assert_eq!(app.me_with_bearer(&elsewhere).await.status(), StatusCode::UNAUTHORIZED, "the other ended");
    assert_eq!(app.token(&user.email, STRONG).await.status(), StatusCode::OK, "the new password works");
    assert!(app.event_kinds(&user).contains(&"password_changed".to_owned()));
}

async fn concurrent_password_changes_have_exactly_one_winner() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let candidates = ["first new passphrase of the day", "second new passphrase, different"];
    // Both browsers are signed in before either change starts.
    let mut browsers = Vec::new();
    for _ in candidates {
        browsers.push(signed_in_browser(&app, &user).await);
    }
    let mut set = JoinSet::new();
    for (new, (client, csrf)) in candidates.into_iter().zip(browsers) {
        let url = app.url("/account/password");
        set.spawn(async move {
            let form = [("current_password", PASSWORD), ("new_password", new), ("csrf_token", csrf.as_str())];
            let res = client.post(url).form(&form).send().await.unwrap();
            let won = res.status() == StatusCode::SEE_OTHER
                && res.headers()["location"].to_str().unwrap() == "/account?done=password";
            (new, won, res.status())
        });
    }
    let outcomes = set.join_all().await;
    let winners: Vec<&str> = outcomes.iter().filter(|o| o.1).map(|o| o.0).collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    for (new, won, status) in &outcomes {
        let expected = if *won { StatusCode::OK } else { StatusCode::BAD_REQUEST };
        assert_eq!(app.token(&user.email, new).await.status(), expected, "{new}: {status}");
    }
    let kinds = app.event_kinds(&user);
    assert_eq!(
        app.live_sessions(&user),
        2,
        "the winner's session and the sign-in with the new password; {outcomes:?}; events {kinds:?}"
    );
}

async fn guessing_the_current_password_is_throttled_and_washes_out_nothing() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let form = [
        ("current_password", WRONG),
        ("new_password", "another fine passphrase here"),
        ("csrf_token", csrf.as_str()),
    ];
    let guess = || app.post_form("/account/password", &form);
    for _ in 0..5 {
        assert_eq!(guess().await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let res = guess().await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let kinds = app.event_kinds(&user);
    assert_eq!(kinds.iter().filter(|k| *k == "password_check_failed").count(), 5);
    assert!(!kinds.contains(&"login_failed".to_owned()), "a session holder's guess is not a failed sign-in");
    assert!(kinds.contains(&"login_succeeded".to_owned()));
}

async fn changing_the_password_is_mailed() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let new = "the owner picked a new passphrase";
    let form = [("current_password", PASSWORD), ("new_password", new), ("csrf_token", csrf.as_str())];
    assert_eq!(app.post_form("/account/password", &form).await.status(), StatusCode::SEE_OTHER);
    let mails = sink.wait_for(&user.email, 2).await;
    assert!(mails.iter().any(|m| m.subject() == "Your Portcullis password was changed"), "{mails:?}");
}

/// Signs `user` in on a browser of its own; returns its client and CSRF token.
/// A browser-like client signed in as `user` through the JSON sign-in, and its CSRF token.
async fn signed_in_browser(app: &TestApp, user: &TestUser) -> (reqwest::Client, String) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = client_with(jar.clone());
    let res = client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": user.email, "password": user.password}));
    assert_eq!(res.send().await.unwrap().status(), StatusCode::OK);
    let url = app.address.parse().unwrap();
    let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &url).unwrap();
    let csrf =
        cookies.to_str().unwrap().split("; ").find_map(|c| c.strip_prefix("csrf_token=")).unwrap().to_owned();
    (client, csrf)
}

crate::helpers::backend_tests!(
    changing_the_password_ends_other_sessions_and_reissues_this_one,
    a_wrong_current_password_or_weak_new_one_changes_nothing,
    the_api_changes_the_password_and_ends_the_other_sessions,
    concurrent_password_changes_have_exactly_one_winner,
    guessing_the_current_password_is_throttled_and_washes_out_nothing,
    changing_the_password_is_mailed,
);
