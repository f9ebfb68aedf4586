//! Failed sign-ins are throttled per account and per client IP, in the database.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use portcullis::db::schema::login_throttle;
use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, TestUser, error_code, spawn_app, spawn_app_with};

const WRONG: &str = "certainly not the password";

async fn fail(app: &TestApp, user: &TestUser) -> reqwest::Response {
    app.post_json("/api/auth/login", &json!({"email": user.email, "password": WRONG})).await
}

fn failures(app: &TestApp, key: &str) -> Option<i64> {
    let mut conn = app.pool.get().unwrap();
    login_throttle::table.find(key).select(login_throttle::failures).first(&mut **conn).ok()
}

async fn an_account_is_paused_after_five_failures_even_for_the_right_password() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    for _ in 0..5 {
        assert_eq!(fail(&app, &user).await.status(), StatusCode::UNAUTHORIZED);
    }
    let res =
        app.post_json("/api/auth/login", &json!({"email": user.email, "password": user.password})).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(error_code(res).await, "too_many_requests");
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = app.login_form(&user.email, &user.password, false).await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("sign-in is paused"));
    let kinds = app.event_kinds(&user);
    assert!(kinds.contains(&"lockout".to_owned()));
}

async fn throttled_attempts_are_refused_before_the_password_is_checked() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    for _ in 0..5 {
        fail(&app, &user).await;
    }
    let key = format!("account:{}", user.email);
    let before = failures(&app, &key);
    assert_eq!(fail(&app, &user).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(failures(&app, &key), before, "a refused attempt is neither hashed nor counted");
}

async fn the_back_off_grows_with_each_further_failure() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    for _ in 0..5 {
        fail(&app, &user).await;
    }
    // Let the first 30-second pause run out, then fail once more.
    let mut conn = app.pool.get().unwrap();
    diesel::update(login_throttle::table)
        .set(login_throttle::locked_until.eq(0))
        .execute(&mut **conn)
        .unwrap();
    assert_eq!(fail(&app, &user).await.status(), StatusCode::UNAUTHORIZED);
    let res = fail(&app, &user).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((31..=60).contains(&retry), "the second pause is twice the first: {retry}");
}

async fn a_success_clears_the_account_counter() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    for _ in 0..4 {
        fail(&app, &user).await;
    }
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
    for _ in 0..4 {
        assert_eq!(fail(&app, &user).await.status(), StatusCode::UNAUTHORIZED);
    }
}

async fn one_client_ip_is_paused_across_accounts() {
    let app = spawn_app_with(|s| s.throttle_ip = 3).await;
    for _ in 0..3 {
        let stranger = app.add_user(Role::User);
        assert_eq!(fail(&app, &stranger).await.status(), StatusCode::UNAUTHORIZED);
    }
    let fresh = app.add_user(Role::User);
    assert_eq!(app.token(&fresh.email, &fresh.password).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let unknown =
        app.post_json("/api/auth/login", &json!({"email": "ghost@example.com", "password": WRONG})).await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn x_forwarded_for_counts_only_behind_a_trusted_proxy() {
    let untrusted = spawn_app_with(|s| s.throttle_ip = 2).await;
    for i in 0..2 {
        let user = untrusted.add_user(Role::User);
        let res = untrusted
            .client
            .post(untrusted.url("/api/auth/login"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&json!({"email": user.email, "password": WRONG}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert!(failures(&untrusted, "ip:127.0.0.1") == Some(2), "a spoofed header must not spread the count");

    let behind_proxy = spawn_app_with(|s| {
        s.throttle_ip = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let user = behind_proxy.add_user(Role::User);
    let login = |ip: &'static str, password: &'static str| {
        behind_proxy
            .client
            .post(behind_proxy.url("/api/auth/login"))
            .header("x-forwarded-for", format!("198.51.100.7, {ip}"))
            .json(&json!({"email": user.email, "password": password}))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(login("203.0.113.9", WRONG).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        failures(&behind_proxy, "ip:203.0.113.9"),
        Some(2),
        "the proxy's client, not the left-most entry"
    );
    assert_eq!(login("203.0.113.9", "x").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let ok = login("203.0.113.10", crate::helpers::PASSWORD).await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK, "another client behind the same proxy is not paused");
    let sessions: Vec<serde_json::Value> = behind_proxy.get("/api/sessions").await.json().await.unwrap();
    assert_eq!(sessions[0]["ip"], "203.0.113.10");
}

async fn a_junk_forwarded_hop_left_of_the_client_does_not_hide_it() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let user = app.add_user(Role::User);
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "junk, 198.51.100.7")
        .json(&json!({"email": user.email, "password": WRONG}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(failures(&app, "ip:198.51.100.7"), Some(1), "the client, not the proxy, is counted");
    assert_eq!(failures(&app, "ip:127.0.0.1"), None);
}

async fn ipv6_clients_are_throttled_per_64() {
    let app = spawn_app_with(|s| {
        s.throttle_ip = 2;
        s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let attempt = |ip: &'static str| {
        let user = app.add_user(Role::User);
        app.client
            .post(app.url("/api/auth/login"))
            .header("x-forwarded-for", ip)
            .json(&json!({"email": user.email, "password": WRONG}))
            .send()
    };
    assert_eq!(attempt("2001:db8:1:2::1").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("2001:db8:1:2:ffff::9").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(failures(&app, "ip:2001:db8:1:2::/64"), Some(2));
    let same_64 = attempt("2001:db8:1:2:abcd::1").await.unwrap();
    assert_eq!(same_64.status(), StatusCode::TOO_MANY_REQUESTS, "another address of the same /64");
    let other_64 = attempt("2001:db8:1:3::1").await.unwrap();
    assert_eq!(other_64.status(), StatusCode::UNAUTHORIZED, "the next /64 is someone else");
}

crate::helpers::backend_tests!(
    a_junk_forwarded_hop_left_of_the_client_does_not_hide_it,
    ipv6_clients_are_throttled_per_64,
    an_account_is_paused_after_five_failures_even_for_the_right_password,
    throttled_attempts_are_refused_before_the_password_is_checked,
    the_back_off_grows_with_each_further_failure,
    a_success_clears_the_account_counter,
    one_client_ip_is_paused_across_accounts,
    x_forwarded_for_counts_only_behind_a_trusted_proxy,
);
