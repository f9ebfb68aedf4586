//! The admin pages: the list, disabling and enabling, and the tools for one account (role, end
//! every session, lift the sign-in lock, delete), every administrator's action a security event
//! naming them, seen by the account's owner. The JSON twins are in `api.rs`.

use portcullis::domain::Role;
use reqwest::StatusCode;

use super::{account_page_of, app_with_a_low_lock};
use crate::helpers::{backend_tests, spawn_app, spawn_app_with};

async fn an_admin_changes_a_role_ends_sessions_and_lifts_a_lock_and_the_owner_sees_who() {
    let app = app_with_a_low_lock().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    app.login_as(&admin).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let page = app.get(&format!("/admin/users/{}", user.id)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(&user.email) && html.contains("Not locked"), "{html}");

    let role = app
        .post_form(&format!("/admin/users/{}/role", user.id), &[("role", "admin"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(role.status(), StatusCode::SEE_OTHER);
    assert_eq!(role.headers()["location"], format!("/admin/users/{}?done=role", user.id));
    let bad = app
        .post_form(&format!("/admin/users/{}/role", user.id), &[("role", "root"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let end =
        app.post_form(&format!("/admin/users/{}/sessions/end", user.id), &[("csrf_token", &csrf)]).await;
    assert_eq!(end.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED, "ended at once");

    for _ in 0..2 {
        app.token(&user.email, "a wrong password").await;
    }
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let locked = app.get(&format!("/admin/users/{}", user.id)).await.text().await.unwrap();
    assert!(locked.contains("Paused after failed attempts"), "the page shows the lock");
    let unlock = app.post_form(&format!("/admin/users/{}/unlock", user.id), &[("csrf_token", &csrf)]).await;
    assert_eq!(unlock.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);

    let kinds = app.event_kinds(&user);
    for kind in ["role_changed", "sessions_ended", "unlocked"] {
        assert!(kinds.contains(&kind.to_owned()), "{kind} not in {kinds:?}");
    }
    let theirs = account_page_of(&app, &user).await;
    assert!(theirs.contains("Role changed by an administrator"), "{theirs}");
    assert!(theirs.contains(&format!("user → admin, by {}", admin.email)), "the owner sees who");
    assert!(theirs.contains(&format!(
        "Sign-in lock lifted by an administrator <span class=\"muted\">(<bdi>by {}</bdi>)",
        admin.email
    )));
}

async fn an_admin_deletes_an_account_only_with_the_box_ticked_and_keeps_a_record() {
    let app = spawn_app_with(|_| {}).await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    app.login_as(&admin).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let delete = format!("/admin/users/{}/delete", user.id);
    assert_eq!(
        app.post_form(&delete, &[("csrf_token", &csrf)]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK, "still there");
    let gone = app.post_form(&delete, &[("confirm", "yes"), ("csrf_token", &csrf)]).await;
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&format!("/admin/users/{}", user.id)).await.status(), StatusCode::NOT_FOUND);
    assert!(
        app.event_kinds(&admin).contains(&"user_deleted".to_owned()),
        "on the administrator's own record"
    );
    app.add_user(Role::Admin);
    let own = format!("/admin/users/{}/delete", admin.id);
    let refused = app.post_form(&own, &[("confirm", "yes"), ("csrf_token", &csrf)]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "not your own account from here");
}

async fn the_tools_are_for_administrators_only() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.add_user(Role::User);
    let other = app.add_user(Role::User);
    app.login_as(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    assert_eq!(app.get(&format!("/admin/users/{}", other.id)).await.status(), StatusCode::FORBIDDEN);
    for action in ["role", "sessions/end", "unlock", "delete"] {
        let res = app
            .post_form(
                &format!("/admin/users/{}/{action}", other.id),
                &[("role", "admin"), ("confirm", "yes"), ("csrf_token", &csrf)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert!(app.event_kinds(&other).is_empty(), "nothing happened to them");
}

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
    assert_eq!(
        app.live_sessions(&user),
        0,
        "disabling revokes every session, so enabling does not revive them"
    );
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

backend_tests!(
    an_admin_changes_a_role_ends_sessions_and_lifts_a_lock_and_the_owner_sees_who,
    an_admin_deletes_an_account_only_with_the_box_ticked_and_keeps_a_record,
    the_tools_are_for_administrators_only,
    non_admins_get_403_and_strangers_are_sent_to_login,
    an_admin_sees_every_user_with_status_and_sessions,
    disabling_a_user_ends_their_sessions_at_once_and_enabling_lets_them_back,
    an_admin_cannot_disable_themselves_and_unknown_users_are_404,
);

/// The same tools from a real browser: the list links to the account, the role is chosen in a
/// select, the notice says what happened, and deleting needs the box ticked (the browser itself
/// refuses the form without it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_admin_uses_the_tools_on_one_account() {
    let Some(browser) = portcullis_testkit::Browser::start().await else { return };
    let app = spawn_app_with(|_| {}).await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    browser.sign_in(&app.address, &admin.email, &admin.password, false).await;
    browser.goto(&app.url("/admin/users")).await;
    browser.click(&format!("a[href='/admin/users/{}']", user.id)).await;
    browser.wait_for_text("Lift the sign-in lock").await;

    browser.click("select#role option[value=admin]").await;
    browser.click(&format!("form[action='/admin/users/{}/role'] button", user.id)).await;
    let text = browser.wait_for_text("The role is changed.").await;
    assert!(
        text.contains("Role changed by an administrator") && text.contains(&format!("by {}", admin.email)),
        "{text}"
    );

    browser.click(&format!("form[action='/admin/users/{}/sessions/end'] button", user.id)).await;
    browser.wait_for_text("Every session of this account has ended.").await;
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::UNAUTHORIZED);

    let delete = format!("form[action='/admin/users/{}/delete'] button", user.id);
    browser.click(&delete).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(browser.path().await, format!("/admin/users/{}", user.id), "not without the box");
    browser.click("input[name=confirm]").await;
    browser.click(&delete).await;
    // The account's own page says "Member since" too: wait for the list's address.
    let listed = app.url("/admin/users").parse().unwrap();
    browser.client.wait().for_url(&listed).await.expect("back on the list");
    let list = browser.wait_for_text("Member since").await;
    assert!(!list.contains(&user.email), "{list}");
    browser.quit().await;
}
