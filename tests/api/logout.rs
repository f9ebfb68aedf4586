use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{set_cookie, set_cookies, spawn_app};

async fn page_logout_revokes_the_session_and_the_old_token_is_refused_at_once() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let access = app.cookie("access_token").expect("signed in");
    let csrf = app.cookie("csrf_token").unwrap();
    let res = app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login");
    let cookies = set_cookies(res.headers());
    assert!(set_cookie(&cookies, "access_token").unwrap().contains("Max-Age=0"));
    assert!(set_cookie(&cookies, "refresh_token").unwrap().contains("Max-Age=0"));
    // The copied access token is still unexpired, but its session is gone.
    assert_eq!(app.me_with_bearer(&access).await.status(), StatusCode::UNAUTHORIZED);
}

async fn logout_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let res = app.post_form("/logout", &[]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK);
}

async fn api_logout_ends_a_bearer_session() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let res =
        reqwest::Client::new().post(app.url("/api/auth/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
}

async fn disabling_a_user_refuses_their_token_at_the_next_request() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::OK);
    app.set_disabled_flag_only(&user);
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
}

crate::helpers::backend_tests!(
    page_logout_revokes_the_session_and_the_old_token_is_refused_at_once,
    logout_without_the_csrf_token_is_refused_and_changes_nothing,
    api_logout_ends_a_bearer_session,
    disabling_a_user_refuses_their_token_at_the_next_request,
);
