//! The admin role: listing users, disabling and enabling them.

use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{error_code, spawn_app};

async fn non_admins_get_403_and_strangers_are_sent_to_login() {
    let app = spawn_app().await;
    assert_eq!(app.get("/admin/users").await.status(), StatusCode::SEE_OTHER);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let res = app.get("/admin/users").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("Not allowed"));
}

async fn an_admin_sees_every_user_with_status_and_sessions() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    app.login_as(&admin).await;
    let html = app.get("/admin/users").await.text().await.unwrap();
    assert!(html.contains(&admin.email) && html.contains(&user.email));
    assert!(html.contains(&format!("/admin/users/{}/disable", user.id)));
    assert!(!html.contains(&format!("/admin/users/{}/disable", admin.id)), "no button to disable yourself");
}

async fn disabling_a_user_ends_their_sessions_at_once_and_enabling_lets_them_back() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    app.login_as(&admin).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let disable = format!("/admin/users/{}/disable", user.id);
    assert_eq!(
        app.post_form(&disable, &[]).await.status(),
        StatusCode::FORBIDDEN,
        "CSRF applies to admins too"
    );
    let res = app.post_form(&disable, &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::BAD_REQUEST);
    let mut conn = app.pool.get().unwrap();
    let live =
        portcullis::db::sessions::live_sessions(&mut conn, &user.id.as_str().into(), portcullis::db::now())
            .unwrap();
    assert!(live.is_empty(), "disabling revokes every session, so enabling does not revive them");
    let enable = format!("/admin/users/{}/enable", user.id);
    assert_eq!(app.post_form(&enable, &[("csrf_token", &csrf)]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
}

async fn an_admin_cannot_disable_themselves_and_unknown_users_are_404() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    app.login_as(&admin).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let own = format!("/admin/users/{}/disable", admin.id);
    let res = app.post_form(&own, &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "the last enabled administrator");
    app.add_user(Role::Admin);
    let res = app.post_form(&own, &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "nor one's own account");
    let res = app.post_form("/admin/users/nobody/disable", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
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

crate::helpers::backend_tests!(
    non_admins_get_403_and_strangers_are_sent_to_login,
    an_admin_sees_every_user_with_status_and_sessions,
    disabling_a_user_ends_their_sessions_at_once_and_enabling_lets_them_back,
    an_admin_cannot_disable_themselves_and_unknown_users_are_404,
    the_admin_api_shape_is_a_403_json_for_non_admins,
);
