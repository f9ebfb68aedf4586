//! Deleting one's own account, from the account page and from the API.

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestUser, error_code, spawn_app};

fn user_exists(app: &TestApp, user: &TestUser) -> bool {
    let mut conn = app.pool.get().unwrap();
    portcullis::db::users::find_user_by_id(&mut conn, &user.id.as_str().into()).unwrap().is_some()
}

async fn deleting_my_account_needs_my_password_and_takes_everything_with_it() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let elsewhere = app.bearer_for(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let wrong = app
        .post_form("/account/delete", &[("password", "not my password at all"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(user_exists(&app, &user));
    let res = app.post_form("/account/delete", &[("password", PASSWORD), ("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?deleted=done");
    assert!(!user_exists(&app, &user));
    assert!(app.event_kinds(&user).is_empty(), "its events went with it");
    assert_eq!(app.me_with_bearer(&elsewhere).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::BAD_REQUEST);
}

async fn the_api_deletes_an_account_but_never_the_last_admin() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let delete = |token: String, password: &'static str| {
        let url = app.url("/api/account");
        async move {
            reqwest::Client::new()
                .delete(url)
                .bearer_auth(token)
                .json(&json!({"password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let wrong = delete(app.bearer_for(&user).await, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(wrong).await, "wrong_password");
    assert_eq!(delete(app.bearer_for(&user).await, PASSWORD).await.status(), StatusCode::NO_CONTENT);
    assert!(!user_exists(&app, &user));
    let last = delete(app.bearer_for(&admin).await, PASSWORD).await;
    assert_eq!(last.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(last).await, "last_admin");
    assert!(user_exists(&app, &admin));
}

async fn the_account_page_shows_each_form_once_under_a_plain_title() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("<title>Your account · Portcullis</title>"), "{page}");
    for action in ["/account/email", "/account/delete", "/account/password"] {
        assert_eq!(page.matches(&format!("action=\"{action}\"")).count(), 1, "{action}");
    }
}

crate::helpers::backend_tests!(
    the_account_page_shows_each_form_once_under_a_plain_title,
    deleting_my_account_needs_my_password_and_takes_everything_with_it,
    the_api_deletes_an_account_but_never_the_last_admin,
);
