//! The admin API (SPEC §4): administrators only, the same rules as the admin page and the CLI,
//! 409 `last_admin` for the last enabled administrator, and the same security events as the pages.

use portcullis::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{backend_tests, error_code, spawn_app, spawn_app_with};

async fn the_admin_api_leaves_the_same_events_naming_the_admin() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let bearer = app.bearer_for(&admin).await;
    let client = reqwest::Client::new();
    let role = client
        .put(app.url(&format!("/api/admin/users/{}/role", user.id)))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(role.status(), StatusCode::NO_CONTENT);
    let disable = client
        .post(app.url(&format!("/api/admin/users/{}/disable", user.id)))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(disable.status(), StatusCode::NO_CONTENT);
    let events: Value = client
        .get(app.url(&format!("/api/admin/users/{}/events", user.id)))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by = format!("by {}", admin.email);
    let find = |kind: &str| events.as_array().unwrap().iter().find(|e| e["kind"] == kind).cloned();
    assert_eq!(find("role_changed").expect("role_changed")["detail"], format!("user → admin, {by}"));
    assert_eq!(find("user_disabled").expect("user_disabled")["detail"], by);
}

async fn the_admin_api_shape_is_a_403_json_for_non_admins() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let res =
        reqwest::Client::new().get(app.url("/api/admin/users")).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "forbidden");
}

backend_tests!(
    the_admin_api_is_for_administrators_only,
    administrators_disable_enable_promote_and_delete_through_the_api,
    the_last_enabled_administrator_is_protected_with_409,
    administrators_end_sessions_read_events_and_lift_locks,
    the_admin_api_leaves_the_same_events_naming_the_admin,
    the_admin_api_shape_is_a_403_json_for_non_admins,
);

fn routes(id: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/api/admin/users".into(), None),
        (Method::POST, format!("/api/admin/users/{id}/disable"), None),
        (Method::POST, format!("/api/admin/users/{id}/enable"), None),
        (Method::PUT, format!("/api/admin/users/{id}/role"), Some(json!({"role": "admin"}))),
        (Method::DELETE, format!("/api/admin/users/{id}"), None),
        (Method::DELETE, format!("/api/admin/users/{id}/sessions"), None),
        (Method::GET, format!("/api/admin/users/{id}/events"), None),
        (Method::POST, format!("/api/admin/users/{id}/unlock"), None),
        (Method::DELETE, format!("/api/admin/users/{id}/2fa"), None),
    ]
}

async fn the_admin_api_is_for_administrators_only() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    for (method, path, body) in routes(&user.id) {
        let res = app.bearer_call(&token, method.clone(), &path, body.clone()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(error_code(res).await, "forbidden");
        let anonymous = reqwest::Client::new().request(method.clone(), app.url(&path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

async fn administrators_disable_enable_promote_and_delete_through_the_api() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let (boss, theirs) = (app.bearer_for(&admin).await, app.bearer_for(&user).await);
    let path = |tail: &str| format!("/api/admin/users/{}{tail}", user.id);

    assert_eq!(
        app.bearer_call(&boss, Method::POST, &path("/disable"), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.me_with_bearer(&theirs).await.status(), StatusCode::UNAUTHORIZED, "disabled at once");
    let listed: Vec<Value> =
        app.bearer_call(&boss, Method::GET, "/api/admin/users", None).await.json().await.unwrap();
    assert!(listed.iter().any(|u| u["id"] == user.id.as_str() && u["disabled"] == true));
    assert_eq!(
        app.bearer_call(&boss, Method::POST, &path("/enable"), None).await.status(),
        StatusCode::NO_CONTENT
    );
    // Not on one's own account, even with another administrator left (the last one gets 409).
    app.add_user(Role::Admin);
    let own = format!("/api/admin/users/{}/disable", admin.id);
    let res = app.bearer_call(&boss, Method::POST, &own, None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "cannot_disable_self");
    let own = format!("/api/admin/users/{}", admin.id);
    let res = app.bearer_call(&boss, Method::DELETE, &own, None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "the account page deletes one's own");
    assert_eq!(error_code(res).await, "cannot_delete_self");
    assert_eq!(app.me_with_bearer(&boss).await.status(), StatusCode::OK);

    let bad = app.bearer_call(&boss, Method::PUT, &path("/role"), Some(json!({"role": "owner"}))).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(bad).await, "invalid_role");
    let res = app.bearer_call(&boss, Method::PUT, &path("/role"), Some(json!({"role": "admin"}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let token = app.bearer_for(&user).await;
    let me: Value = app.me_with_bearer(&token).await.json().await.unwrap();
    assert_eq!(me["role"], "admin");

    assert_eq!(
        app.bearer_call(&boss, Method::DELETE, &path(""), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
    for (method, tail) in [(Method::DELETE, ""), (Method::POST, "/disable"), (Method::GET, "/events")] {
        let res = app.bearer_call(&boss, method.clone(), &path(tail), None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {tail} of a deleted user");
    }
}

async fn the_last_enabled_administrator_is_protected_with_409() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let boss = app.bearer_for(&admin).await;
    let me = |tail: &str| format!("/api/admin/users/{}{tail}", admin.id);
    for (method, path, body) in
        [(Method::PUT, me("/role"), Some(json!({"role": "user"}))), (Method::DELETE, me(""), None)]
    {
        let res = app.bearer_call(&boss, method.clone(), &path, body).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{method} {path}");
        assert_eq!(error_code(res).await, "last_admin");
    }
    // With a second administrator, the first may step down.
    let second = app.add_user(Role::Admin);
    let other = app.bearer_for(&second).await;
    let res = app.bearer_call(&other, Method::POST, &me("/disable"), None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let last = format!("/api/admin/users/{}/role", second.id);
    let res = app.bearer_call(&other, Method::PUT, &last, Some(json!({"role": "user"}))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "the only enabled admin left");
}

async fn administrators_end_sessions_read_events_and_lift_locks() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let boss = app.bearer_for(&admin).await;
    let theirs = app.bearer_for(&user).await;
    let path = |tail: &str| format!("/api/admin/users/{}{tail}", user.id);

    assert_eq!(
        app.bearer_call(&boss, Method::DELETE, &path("/sessions"), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.me_with_bearer(&theirs).await.status(), StatusCode::UNAUTHORIZED);

    for _ in 0..6 {
        app.token(&user.email, "a wrong password entirely").await;
    }
    assert_eq!(
        app.token(&user.email, &user.password).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked"
    );
    let events: Vec<Value> =
        app.bearer_call(&boss, Method::GET, &path("/events"), None).await.json().await.unwrap();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds, app.event_kinds(&user), "the user's stored events, newest first");
    assert!(kinds.contains(&"login_failed") && kinds.contains(&"sessions_ended"), "{kinds:?}");

    assert_eq!(
        app.bearer_call(&boss, Method::POST, &path("/unlock"), None).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK, "the lock is lifted");
}
