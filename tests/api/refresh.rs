//! Refresh rotation, the grace window, theft detection and implicit refresh.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, set_cookie, set_cookies, spawn_app, spawn_app_with};

async fn refresh_grant(app: &TestApp, refresh: &str) -> reqwest::Response {
    app.post_form("/api/auth/token", &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await
}

fn claims(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap()
}

async fn the_refresh_grant_rotates_and_the_new_pair_works() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let (_, refresh) = app.token_pair(&user).await;
    let res = refresh_grant(&app, &refresh).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let (access2, refresh2) =
        (body["access_token"].as_str().unwrap(), body["refresh_token"].as_str().unwrap());
    assert_ne!(refresh2, refresh);
    assert_eq!(claims(refresh2)["sid"], claims(&refresh)["sid"]);
    assert_eq!(app.me_with_bearer(access2).await.status(), StatusCode::OK);
    assert_eq!(refresh_grant(&app, refresh2).await.status(), StatusCode::OK);
}

async fn the_previous_token_within_grace_gets_the_same_successor() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let (_, refresh) = app.token_pair(&user).await;
    let first: Value = refresh_grant(&app, &refresh).await.json().await.unwrap();
    let retry = refresh_grant(&app, &refresh).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(
        retry["refresh_token"], first["refresh_token"],
        "a retry must not mint a second live successor"
    );
    assert_eq!(app.me_with_bearer(retry["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);
}

async fn a_replay_after_the_grace_window_kills_the_session() {
    let app = spawn_app_with(|s| s.refresh_grace = Duration::from_secs(1)).await;
    let user = app.add_user(Role::User);
    let (_, stolen) = app.token_pair(&user).await;
    let body: Value = refresh_grant(&app, &stolen).await.json().await.unwrap();
    let (access2, refresh2) = (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let replay = refresh_grant(&app, &stolen).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let err: Value = replay.json().await.unwrap();
    assert_eq!(err["error"], "invalid_grant");
    // The legitimate holder's tokens die with the session.
    assert_eq!(app.me_with_bearer(&access2).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refresh_grant(&app, &refresh2).await.status(), StatusCode::BAD_REQUEST);
    assert!(app.event_kinds(&user).contains(&"refresh_reuse_detected".to_owned()));
}

async fn a_token_two_rotations_old_is_theft_even_within_grace() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let (_, first) = app.token_pair(&user).await;
    let second: Value = refresh_grant(&app, &first).await.json().await.unwrap();
    let third: Value =
        refresh_grant(&app, second["refresh_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(refresh_grant(&app, &first).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        app.me_with_bearer(third["access_token"].as_str().unwrap()).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn ten_parallel_refreshes_of_one_token_yield_one_successor() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let (_, refresh) = app.token_pair(&user).await;
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (client, url, token) = (app.client.clone(), app.url("/api/auth/token"), refresh.clone());
        set.spawn(async move {
            let form = [("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
            let res = client.post(url).form(&form).send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        });
    }
    let mut successors = std::collections::HashSet::new();
    for (status, body) in set.join_all().await {
        assert_eq!(status, StatusCode::OK, "a parallel tab was signed out: {body}");
        successors.insert(body["refresh_token"].as_str().unwrap().to_owned());
    }
    assert_eq!(successors.len(), 1, "parallel refreshes produced {} live successors", successors.len());
    let successor = successors.into_iter().next().unwrap();
    assert_eq!(refresh_grant(&app, &successor).await.status(), StatusCode::OK);
}

async fn cookie_refresh_rotates_the_cookies() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let login =
        app.post_json("/api/auth/login", &json!({"email": user.email, "password": user.password})).await;
    assert_eq!(login.status(), StatusCode::OK);
    let before = app.cookie("refresh_token").unwrap();
    let res = app.api_post("/api/auth/refresh").await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(res.headers());
    assert!(set_cookie(&cookies, "access_token").is_some());
    let after = app.cookie("refresh_token").unwrap();
    assert_ne!(before, after);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK);
}

async fn cookie_refresh_without_a_session_is_401() {
    let app = spawn_app().await;
    let res = app.client.post(app.url("/api/auth/refresh")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn access_and_refresh_tokens_cannot_stand_in_for_each_other_at_the_token_endpoint() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let (access, _) = app.token_pair(&user).await;
    assert_eq!(refresh_grant(&app, &access).await.status(), StatusCode::BAD_REQUEST);
}

async fn a_page_view_with_an_expired_access_token_is_refreshed_in_place() {
    let app = spawn_app_with(|s| {
        s.access_ttl = Duration::from_secs(2);
        s.clock_leeway = Duration::ZERO;
    })
    .await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let old_access = app.cookie("access_token").unwrap();
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        app.me_with_bearer(&old_access).await.status(),
        StatusCode::UNAUTHORIZED,
        "the access token expired"
    );
    let res = app.get("/account").await;
    assert_eq!(res.status(), StatusCode::OK, "no bounce through a refresh URL");
    let cookies = set_cookies(res.headers());
    assert!(
        set_cookie(&cookies, "access_token").is_some() && set_cookie(&cookies, "refresh_token").is_some()
    );
    assert_ne!(app.cookie("access_token").unwrap(), old_access);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK);
}

/// A browser signed in through the form, with access tokens that expire after one second.
async fn signed_in_with_short_access() -> (TestApp, TestUser) {
    let app = spawn_app_with(|s| {
        s.access_ttl = Duration::from_secs(1);
        s.clock_leeway = Duration::ZERO;
    })
    .await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    (app, user)
}

async fn the_api_does_not_refresh_implicitly() {
    let (app, _) = signed_in_with_short_access().await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let res = app.get("/api/me").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}

async fn cookies_rotated_by_the_guard_survive_a_reshaped_error() {
    let (app, user) = signed_in_with_short_access().await;
    let before = app.cookie("refresh_token").unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // A cross-site link to /logout: GET is a 405 page, reshaped from actix's bare answer.
    let res = app.get("/logout").await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let cookies = set_cookies(res.headers());
    assert!(set_cookie(&cookies, "refresh_token").is_some(), "the rotated cookie was dropped: {cookies:?}");
    assert_ne!(app.cookie("refresh_token").unwrap(), before);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK, "still signed in, no false theft");
    assert!(!app.event_kinds(&user).contains(&"refresh_reuse_detected".to_owned()));
}

async fn without_remember_me_the_session_is_capped_at_twelve_hours() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let refresh = claims(&app.cookie("refresh_token").unwrap());
    let lifetime = refresh["exp"].as_i64().unwrap() - refresh["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 12 * 3600);
    let remembered = app.login_form(&user.email, &user.password, true).await;
    let cookies = set_cookies(remembered.headers());
    let token = set_cookie(&cookies, "refresh_token").unwrap();
    let value = token.split(';').next().unwrap().trim_start_matches("refresh_token=");
    let c = claims(value);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 14 * 86_400);
}

async fn rotation_never_extends_the_absolute_lifetime() {
    let app = spawn_app_with(|s| {
        s.refresh_ttl = Duration::from_secs(3600);
        s.session_max = Duration::from_secs(3600);
    })
    .await;
    let user = app.add_user(Role::User);
    let (_, refresh) = app.token_pair(&user).await;
    let original_exp = claims(&refresh)["exp"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let body: Value = refresh_grant(&app, &refresh).await.json().await.unwrap();
    let rotated = claims(body["refresh_token"].as_str().unwrap());
    assert_eq!(rotated["exp"].as_i64().unwrap(), original_exp);
}

async fn an_expired_session_cannot_be_refreshed() {
    let app = spawn_app_with(|s| {
        s.access_ttl = Duration::from_secs(1);
        s.refresh_ttl = Duration::from_secs(2);
        s.session_max = Duration::from_secs(2);
        s.clock_leeway = Duration::ZERO;
    })
    .await;
    let user = app.add_user(Role::User);
    let (_, refresh) = app.token_pair(&user).await;
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(refresh_grant(&app, &refresh).await.status(), StatusCode::BAD_REQUEST);
}

crate::helpers::backend_tests!(
    cookies_rotated_by_the_guard_survive_a_reshaped_error,
    the_refresh_grant_rotates_and_the_new_pair_works,
    the_previous_token_within_grace_gets_the_same_successor,
    a_replay_after_the_grace_window_kills_the_session,
    a_token_two_rotations_old_is_theft_even_within_grace,
    ten_parallel_refreshes_of_one_token_yield_one_successor,
    cookie_refresh_rotates_the_cookies,
    cookie_refresh_without_a_session_is_401,
    access_and_refresh_tokens_cannot_stand_in_for_each_other_at_the_token_endpoint,
    a_page_view_with_an_expired_access_token_is_refreshed_in_place,
    the_api_does_not_refresh_implicitly,
    without_remember_me_the_session_is_capped_at_twelve_hours,
    rotation_never_extends_the_absolute_lifetime,
    an_expired_session_cannot_be_refreshed,
);
