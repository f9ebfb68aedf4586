use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

async fn register(app: &TestApp, email: &str, password: &str, confirm: &str) -> reqwest::Response {
    let csrf = app.csrf_token().await;
    app.post_form(
        "/register",
        &[("email", email), ("password", password), ("password_confirm", confirm), ("csrf_token", &csrf)],
    )
    .await
}

async fn registering_creates_the_account_and_signs_in() {
    let app = spawn_app().await;
    let res = register(&app, "New.Person@Example.com", PASSWORD, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account");
    let me: serde_json::Value = app.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["email"], "new.person@example.com");
    assert_eq!(me["role"], "user");
}

async fn a_taken_email_is_refused_whatever_its_case() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let res = register(&app, &user.email.to_uppercase(), PASSWORD, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("already exists"));
}

async fn weak_mismatched_or_malformed_input_re_renders_the_form_with_a_message() {
    let app = spawn_app().await;
    let long = "x".repeat(1100);
    let cases = [
        ("ok@example.com", "short", "short", "at least 15 characters"),
        ("ok@example.com", "passwordpassword", "passwordpassword", "too common"),
        ("ok@example.com", PASSWORD, "something else entirely", "do not match"),
        ("not-an-email", PASSWORD, PASSWORD, "email address"),
        ("ok@example.com", long.as_str(), long.as_str(), "1024 bytes"),
    ];
    for (email, password, confirm, message) in cases {
        let res = register(&app, email, password, confirm).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let body = res.text().await.unwrap();
        assert!(body.contains(message), "expected {message:?}");
        assert!(body.contains("role=\"alert\""));
    }
    assert!(app.cookie("access_token").is_none());
}

async fn registration_is_404_when_closed() {
    let app = spawn_app_with(|s| s.registration = portcullis::config::Registration::Closed).await;
    assert_eq!(app.get("/register").await.status(), StatusCode::NOT_FOUND);
    let csrf = app.csrf_token().await;
    let form = [
        ("email", "a@example.com"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("csrf_token", &csrf),
    ];
    let res = app.post_form("/register", &form).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn the_password_minimum_is_configurable() {
    let app = spawn_app_with(|s| s.password_min = 40).await;
    let res = register(&app, "ok@example.com", PASSWORD, PASSWORD).await;
    assert!(res.text().await.unwrap().contains("at least 40 characters"));
}

crate::helpers::backend_tests!(
    registering_creates_the_account_and_signs_in,
    a_taken_email_is_refused_whatever_its_case,
    weak_mismatched_or_malformed_input_re_renders_the_form_with_a_message,
    registration_is_404_when_closed,
    the_password_minimum_is_configurable,
);
