//! Malformed and hostile input gets a clear 4xx in the right shape, never a 5xx.

use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{error_code, spawn_app};

async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "malformed_json");
}

async fn missing_json_fields_are_a_422() {
    let app = spawn_app().await;
    let res = app.post_json("/api/auth/login", &serde_json::json!({"email": "a@example.com"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "invalid_body");
}

async fn a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/login"))
        .header("content-type", "text/plain")
        .body(r#"{"email":"a@example.com","password":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(res).await, "unsupported_media_type");
}

async fn oversized_bodies_are_a_413() {
    let app = spawn_app().await;
    let big = "a".repeat(64 * 1024);
    let res = app.post_json("/api/auth/login", &serde_json::json!({"email": big, "password": "x"})).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(res).await, "payload_too_large");
    let form = app.post_form("/login", &[("email", big.as_str()), ("password", "x")]).await;
    assert_eq!(form.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let token =
        app.post_form("/api/auth/token", &[("grant_type", "password"), ("username", big.as_str())]).await;
    assert_eq!(token.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn an_incomplete_form_is_a_400_page() {
    let app = spawn_app().await;
    let csrf = app.csrf_token().await;
    let res = app.post_form("/login", &[("email", "a@example.com"), ("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("incomplete"));
}

async fn invalid_utf8_in_a_form_is_a_4xx() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/api/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'g', b'r', b'a', b'n', b't', b'_', b't', b'y', b'p', b'e', b'=', 0xff, 0xfe])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

async fn a_huge_password_is_refused_without_hashing() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let huge = "p".repeat(8000);
    let res =
        app.post_json("/api/auth/login", &serde_json::json!({"email": user.email, "password": huge})).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn look_alike_and_duplicate_access_cookies_are_not_trusted() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let client = reqwest::Client::new();
    let send = |cookie: String| client.get(app.url("/api/me")).header("cookie", cookie).send();
    assert_eq!(send(format!("access_token={token}")).await.unwrap().status(), StatusCode::OK);
    for cookie in [
        format!("access%5Ftoken={token}"),
        format!("Access_Token={token}"),
        format!("ACCESS_TOKEN={token}"),
        format!("access_token={token}; access_token={token}"),
    ] {
        let res = send(cookie.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{:.30}", cookie);
    }
}

async fn a_wrong_method_is_a_405_in_the_paths_format() {
    let app = spawn_app().await;
    let res = app.client.put(app.url("/api/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(res).await, "method_not_allowed");
    let page = app.client.delete(app.url("/login")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

async fn an_oversized_token_request_is_a_413_with_the_json_shape() {
    let app = spawn_app().await;
    let big = "a".repeat(64 * 1024);
    let res =
        app.post_form("/api/auth/token", &[("grant_type", "password"), ("username", big.as_str())]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(res).await, "payload_too_large");
}

async fn huge_or_numerous_headers_are_a_4xx_and_the_server_stays_up() {
    let app = spawn_app().await;
    let huge = app.client.get(app.url("/healthz")).header("x-filler", "a".repeat(200 * 1024)).send().await;
    if let Ok(res) = huge {
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let mut many = app.client.get(app.url("/healthz"));
    for i in 0..300 {
        many = many.header(format!("x-h{i}"), "v");
    }
    if let Ok(res) = many.send().await {
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

async fn non_utf8_cookie_and_authorization_headers_are_just_not_credentials() {
    let app = spawn_app().await;
    let cookie = reqwest::header::HeaderValue::from_bytes(b"access_token=\xff\xfe").unwrap();
    let res = reqwest::Client::new().get(app.url("/api/me")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let auth = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap();
    let res =
        reqwest::Client::new().get(app.url("/api/me")).header("authorization", auth).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "invalid_token");
}

crate::helpers::backend_tests!(
    malformed_json_is_a_400,
    missing_json_fields_are_a_422,
    a_wrong_content_type_is_a_415,
    oversized_bodies_are_a_413,
    an_incomplete_form_is_a_400_page,
    invalid_utf8_in_a_form_is_a_4xx,
    a_huge_password_is_refused_without_hashing,
    look_alike_and_duplicate_access_cookies_are_not_trusted,
    a_wrong_method_is_a_405_in_the_paths_format,
    an_oversized_token_request_is_a_413_with_the_json_shape,
    huge_or_numerous_headers_are_a_4xx_and_the_server_stays_up,
    non_utf8_cookie_and_authorization_headers_are_just_not_credentials,
);
