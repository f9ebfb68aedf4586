//! Limits that hold under concurrency and abuse (SPEC §7): attempts counted before their
//! hash, a bounded hashing queue, device cookies, and throttled registrations. Guesses at the
//! current password are in `password_change.rs`.

use std::sync::Arc;

use portcullis::domain::Role;
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::{
    PASSWORD, TestApp, TestUser, client_with, set_cookie, set_cookies, spawn_app, spawn_app_with,
};

const WRONG: &str = "certainly not the password";

/// Sends `n` sign-ins for `user` with `password` at once; returns their statuses and
/// `Retry-After` headers.
async fn burst(
    app: &TestApp,
    user: &TestUser,
    password: &str,
    n: usize,
) -> Vec<(StatusCode, Option<String>)> {
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (url, body) = (app.url("/api/auth/login"), json!({"email": user.email, "password": password}));
        set.spawn(async move {
            let res = reqwest::Client::new().post(url).json(&body).send().await.unwrap();
            let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
            (res.status(), retry)
        });
    }
    set.join_all().await
}

async fn sixty_parallel_wrong_passwords_get_five_verdicts() {
    let app = spawn_app_with(|s| s.throttle_ip = 1000).await;
    let user = app.add_user(Role::User);
    let statuses: Vec<StatusCode> = burst(&app, &user, WRONG, 60).await.into_iter().map(|r| r.0).collect();
    let verdicts = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(verdicts, 5, "{statuses:?}");
    assert_eq!(throttled, 55, "{statuses:?}");
}

async fn a_full_hashing_queue_answers_503_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.hash_queue = 1;
        s.throttle_ip = 1000;
        s.throttle_account = 1000;
    })
    .await;
    let user = app.add_user(Role::User);
    let answers = burst(&app, &user, WRONG, 24).await;
    let busy: Vec<_> = answers.iter().filter(|r| r.0 == StatusCode::SERVICE_UNAVAILABLE).collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(busy.iter().all(|r| r.1.as_deref() == Some("1")), "{busy:?}");
    let others = answers.iter().filter(|r| r.0 != StatusCode::SERVICE_UNAVAILABLE);
    assert!(others.clone().all(|r| r.0 == StatusCode::UNAUTHORIZED), "{answers:?}");
    assert!(others.count() >= 1, "the queue still serves one at a time");
}

/// A browser of its own that signed in to `user` once (and so holds its device cookie).
async fn owners_browser(app: &TestApp, user: &TestUser) -> reqwest::Client {
    let jar = Arc::new(Jar::default());
    let browser = client_with(jar);
    let res =
        browser.post(app.url("/api/auth/login")).json(&json!({"email": user.email, "password": PASSWORD}));
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let device = set_cookie(&set_cookies(res.headers()), "device").cloned().expect("a device cookie");
    assert!(device.contains("HttpOnly") && device.contains("SameSite=Strict"), "{device}");
    browser
}

async fn an_attacker_cannot_lock_the_owner_out_of_a_browser_they_used_before() {
    let app = spawn_app_with(|s| s.throttle_ip = 1000).await;
    let user = app.add_user(Role::User);
    let browser = owners_browser(&app, &user).await;
    for _ in 0..5 {
        let res = app.post_json("/api/auth/login", &json!({"email": user.email, "password": WRONG})).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let attacker =
        app.post_json("/api/auth/login", &json!({"email": user.email, "password": PASSWORD})).await;
    assert_eq!(attacker.status(), StatusCode::TOO_MANY_REQUESTS, "untrusted clients are paused");
    let owner =
        browser.post(app.url("/api/auth/login")).json(&json!({"email": user.email, "password": PASSWORD}));
    assert_eq!(owner.send().await.unwrap().status(), StatusCode::OK, "the owner's browser is not");
}

async fn a_device_cookie_still_counts_its_own_failures() {
    let app = spawn_app_with(|s| s.throttle_ip = 1000).await;
    let user = app.add_user(Role::User);
    let browser = owners_browser(&app, &user).await;
    let attempt = |password: &'static str| {
        browser
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": user.email, "password": password}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(attempt(WRONG).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(PASSWORD).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = app.token(&user.email, &user.password).await;
    assert_eq!(elsewhere.status(), StatusCode::OK, "that device's pause is its own");
}

async fn a_forged_device_cookie_is_just_another_untrusted_client() {
    let app = spawn_app_with(|s| s.throttle_ip = 1000).await;
    let user = app.add_user(Role::User);
    for _ in 0..5 {
        app.post_json("/api/auth/login", &json!({"email": user.email, "password": WRONG})).await;
    }
    let forged = format!("device={}.AAAAAAAAAAAAAAAAAAAAAA.forgedmac", user.id);
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("cookie", forged)
        .json(&json!({"email": user.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn registrations_from_one_address_are_throttled() {
    let app = spawn_app().await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let csrf = app.csrf_token().await;
        let email = format!("newcomer-{i}@example.com");
        let form = [
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
            ("csrf_token", csrf.as_str()),
        ];
        let res = app.post_form("/register", &form).await;
        statuses.push(res.status());
        // Each registration signs the browser in; sign out for the next.
        app.jar.add_cookie_str("access_token=; Max-Age=0; Path=/", &app.address.parse().unwrap());
        app.jar.add_cookie_str("refresh_token=; Max-Age=0; Path=/", &app.address.parse().unwrap());
    }
    assert_eq!(statuses[..10], [StatusCode::SEE_OTHER; 10], "{statuses:?}");
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS, "{statuses:?}");
}

crate::helpers::backend_tests!(
    sixty_parallel_wrong_passwords_get_five_verdicts,
    a_full_hashing_queue_answers_503_with_retry_after,
    an_attacker_cannot_lock_the_owner_out_of_a_browser_they_used_before,
    a_device_cookie_still_counts_its_own_failures,
    a_forged_device_cookie_is_just_another_untrusted_client,
    registrations_from_one_address_are_throttled,
);
