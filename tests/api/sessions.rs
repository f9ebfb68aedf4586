//! Seeing and ending sessions: the account page, the sessions API, RFC 7009, and the security
//! events they leave. What a password change ends is in `password_change.rs`.

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

async fn sessions_json(app: &TestApp) -> Vec<Value> {
    app.get("/api/sessions").await.json().await.unwrap()
}

async fn the_sessions_api_lists_my_live_sessions_and_marks_this_one() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    app.token_pair(&user).await;
    let list = sessions_json(&app).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list.iter().all(|s| s["ip"] == "127.0.0.1" && s["device"].is_string()));
}

async fn deleting_my_other_session_ends_it_and_someone_elses_is_404() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let stranger = app.add_user(Role::User);
    app.login_as(&user).await;
    let (other_access, _) = app.token_pair(&user).await;
    let (stranger_access, _) = app.token_pair(&stranger).await;
    let other_id = sessions_json(&app).await.into_iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = |t: &str| {
        reqwest::Client::new().delete(app.url(&format!("/api/sessions/{other_id}"))).bearer_auth(t.to_owned())
    };
    // The stranger cannot end my session; it stays alive.
    let foreign = bearer(&stranger_access).send().await.unwrap();
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.me_with_bearer(&other_access).await.status(), StatusCode::OK);
    // My own other device can be ended, and its token dies at once.
    let mine =
        reqwest::Client::new().get(app.url("/api/sessions")).bearer_auth(&other_access).send().await.unwrap();
    assert_eq!(mine.status(), StatusCode::OK);
    let res = bearer(&other_access).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.me_with_bearer(&other_access).await.status(), StatusCode::UNAUTHORIZED);
}

async fn the_account_page_lists_sessions_with_revoke_buttons_and_activity() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_form(&user.email, "definitely not the password", false).await;
    app.login_as(&user).await;
    app.token_pair(&user).await;
    let html = app.get("/account").await.text().await.unwrap();
    assert!(html.contains("This device"));
    assert_eq!(html.matches("/revoke\"").count(), 2, "one revoke button per session");
    assert!(html.contains("Sign out everywhere else"));
    assert!(html.contains("Failed sign-in attempt") && html.contains("Signed in"));
    assert!(html.contains(r#"action="/account/password""#));
}

async fn revoking_from_the_account_page_needs_csrf_and_ends_the_session() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let (other_access, _) = app.token_pair(&user).await;
    let other_id = sessions_json(&app).await.into_iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/account/sessions/{other_id}/revoke");
    assert_eq!(app.post_form(&path, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.me_with_bearer(&other_access).await.status(), StatusCode::OK);
    let csrf = app.cookie("csrf_token").unwrap();
    let res = app.post_form(&path, &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me_with_bearer(&other_access).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "this device stays signed in");
}

async fn sign_out_everywhere_else_keeps_only_this_session() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let (a, _) = app.token_pair(&user).await;
    let (b, _) = app.token_pair(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let res = app.post_form("/account/sessions/revoke-others", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for token in [a, b] {
        assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(sessions_json(&app).await.len(), 1);
}

async fn rfc7009_revocation_ends_the_session_and_always_answers_200() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let (access, refresh) = app.token_pair(&user).await;
    let res = app.post_form("/api/auth/revoke", &[("token", &refresh)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.me_with_bearer(&access).await.status(), StatusCode::UNAUTHORIZED);
    for junk in ["", "garbage", refresh.as_str()] {
        assert_eq!(app.post_form("/api/auth/revoke", &[("token", junk)]).await.status(), StatusCode::OK);
    }
}

async fn logout_and_revocation_are_recorded_as_security_events() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    app.post_form("/logout", &[("csrf_token", &csrf)]).await;
    let kinds = app.event_kinds(&user);
    assert_eq!(kinds, ["logged_out", "login_succeeded"]);
}

async fn security_events_are_kept_per_kind_so_a_flood_of_one_washes_out_no_other() {
    use portcullis::auth::client::ClientInfo;
    use portcullis::auth::events::{EventKind, new_event};
    use portcullis::db::events::{EVENTS_KEPT_PER_KIND, insert_event, recent_events};
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let mut conn = app.pool.get().unwrap();
    let mut ids = Vec::new();
    for _ in 0..(EVENTS_KEPT_PER_KIND + 20) {
        let event = new_event(&user.id.as_str().into(), EventKind::LoginFailed, None, &ClientInfo::default());
        ids.push(event.id.clone());
        insert_event(&mut conn, &event).unwrap();
    }
    let kept = recent_events(&mut conn, &user.id.as_str().into(), 1000).unwrap();
    let failed: Vec<String> =
        kept.iter().filter(|e| e.kind == EventKind::LoginFailed).map(|e| e.id.clone()).collect();
    ids.reverse();
    assert_eq!(failed, ids[..EVENTS_KEPT_PER_KIND as usize], "the newest of the kind are kept, newest first");
    assert!(kept.iter().any(|e| e.kind == EventKind::LoginSucceeded), "the real sign-in survives the flood");
    let page = app.get("/account").await.text().await.unwrap();
    assert!(page.contains("Signed in"), "the account page still shows the real sign-in");
    assert!(page.contains("× 50"), "the flood is one row with its count");
}

crate::helpers::backend_tests!(
    the_sessions_api_lists_my_live_sessions_and_marks_this_one,
    deleting_my_other_session_ends_it_and_someone_elses_is_404,
    the_account_page_lists_sessions_with_revoke_buttons_and_activity,
    revoking_from_the_account_page_needs_csrf_and_ends_the_session,
    sign_out_everywhere_else_keeps_only_this_session,
    rfc7009_revocation_ends_the_session_and_always_answers_200,
    logout_and_revocation_are_recorded_as_security_events,
    security_events_are_kept_per_kind_so_a_flood_of_one_washes_out_no_other,
);
