//! CSRF: every unsafe request a browser could send cross-site is refused (SPEC §5).

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, error_code, spawn_app};

async fn signed_in_via_json(app: &TestApp) {
    let user = app.add_user(Role::User);
    let res =
        app.post_json("/api/auth/login", &json!({"email": user.email, "password": user.password})).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn cookie_authenticated_api_calls_need_the_csrf_header() {
    let app = spawn_app().await;
    signed_in_via_json(&app).await;
    for path in ["/api/auth/refresh", "/api/auth/logout"] {
        let res = app.client.post(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(res).await, "csrf_failed");
        let wrong =
            app.client.post(app.url(path)).header("x-csrf-token", "forged.value").send().await.unwrap();
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let session = app.get("/api/sessions").await.json::<Vec<serde_json::Value>>().await.unwrap();
    let id = session[0]["id"].as_str().unwrap();
    let res = app.client.delete(app.url(&format!("/api/sessions/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "nothing was changed");
    assert_eq!(app.api_post("/api/auth/logout").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_csrf_token_is_bound_to_the_session() {
    let app = spawn_app().await;
    let anonymous_token = app.csrf_token().await;
    signed_in_via_json(&app).await;
    let res = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("x-csrf-token", anonymous_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a token minted before sign-in must not work after it");
}

async fn the_csrf_endpoint_hands_out_a_token_for_the_header() {
    let app = spawn_app().await;
    signed_in_via_json(&app).await;
    let body: serde_json::Value = app.get("/api/auth/csrf").await.json().await.unwrap();
    let token = body["csrf_token"].as_str().unwrap();
    let res =
        app.client.post(app.url("/api/auth/refresh")).header("x-csrf-token", token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_foreign_origin_or_cross_site_fetch_is_refused_even_with_a_valid_token() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let csrf = app.csrf_token().await;
    let form =
        [("email", user.email.as_str()), ("password", user.password.as_str()), ("csrf_token", csrf.as_str())];
    let foreign = app
        .client
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let null = app.client.post(app.url("/login")).header("origin", "null").form(&form).send().await.unwrap();
    assert_eq!(null.status(), StatusCode::FORBIDDEN);
    let cross = app
        .client
        .post(app.url("/login"))
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let json = app
        .client
        .post(app.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"email": user.email, "password": user.password}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(json).await, "csrf_failed");
    assert!(app.cookie("access_token").is_none());
    let own = app
        .client
        .post(app.url("/login"))
        .header("origin", app.address.as_str())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::SEE_OTHER, "the site's own origin is welcome");
}

async fn every_page_form_refuses_a_post_without_its_token() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let other = app.add_user(Role::User);
    app.login_as(&admin).await;
    let sid = app.get("/api/sessions").await.json::<Vec<serde_json::Value>>().await.unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        "/login".to_owned(),
        "/register".to_owned(),
        "/logout".to_owned(),
        "/account/password".to_owned(),
        "/account/sessions/revoke-others".to_owned(),
        format!("/account/sessions/{sid}/revoke"),
        format!("/admin/users/{}/disable", other.id),
        format!("/admin/users/{}/enable", other.id),
    ] {
        let form = [
            ("email", "x@example.com"),
            ("password", "p"),
            ("password_confirm", "p"),
            ("current_password", "p"),
            ("new_password", "p"),
        ];
        let res = app.post_form(&path, &form).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK);
}

async fn bearer_requests_are_exempt() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .header("origin", "https://scripts.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

async fn get_requests_change_nothing() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    for path in ["/logout", "/api/auth/logout", "/api/auth/refresh", "/account/sessions/revoke-others"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
    }
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK);
}

async fn a_percent_encoded_api_path_gets_the_api_rules() {
    let app = spawn_app().await;
    signed_in_via_json(&app).await;
    for path in ["/%61pi/auth/logout", "/%61pi/auth/refresh", "/%61pi/sessions/revoke-others"] {
        let res = app.client.post(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(error_code(res).await, "csrf_failed", "{path}: the answer has the API's JSON shape");
    }
    let res = reqwest::Client::new().put(app.url("/%61pi/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(res).await, "method_not_allowed");
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "the session is still alive");
}

async fn a_bogus_authorization_header_exempts_nothing() {
    let app = spawn_app().await;
    signed_in_via_json(&app).await;
    let res = app
        .client
        .post(app.url("/api/auth/refresh"))
        .header("authorization", "Bearer x")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.client.post(app.url("/api/auth/logout")).header("authorization", "Bearer x").send().await;
    assert_eq!(res.unwrap().status(), StatusCode::FORBIDDEN, "no X-CSRF-Token, so no logout");
    assert_eq!(app.get("/api/auth/csrf").await.status(), StatusCode::OK);
}

crate::helpers::backend_tests!(
    a_percent_encoded_api_path_gets_the_api_rules,
    a_bogus_authorization_header_exempts_nothing,
    cookie_authenticated_api_calls_need_the_csrf_header,
    the_csrf_token_is_bound_to_the_session,
    the_csrf_endpoint_hands_out_a_token_for_the_header,
    a_foreign_origin_or_cross_site_fetch_is_refused_even_with_a_valid_token,
    every_page_form_refuses_a_post_without_its_token,
    bearer_requests_are_exempt,
    get_requests_change_nothing,
);
