//! Parallel requests on one account give consistent results on both backends.

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::helpers::{PASSWORD, TestApp, spawn_app, spawn_app_with};

async fn parallel_sign_ins_each_get_their_own_session() {
    // Attempts are counted before their hash: more than the free attempts in flight at once
    // would be throttled, whatever their outcome.
    let app = spawn_app_with(|s| s.throttle_account = 50).await;
    let user = app.add_user(Role::User);
    let mut set = JoinSet::new();
    for _ in 0..12 {
        let (client, url) = (app.client.clone(), app.url("/api/auth/token"));
        let form = [
            ("grant_type", "password".to_owned()),
            ("username", user.email.clone()),
            ("password", PASSWORD.to_owned()),
        ];
        set.spawn(async move { client.post(url).form(&form).send().await.unwrap().status() });
    }
    assert!(set.join_all().await.into_iter().all(|s| s == StatusCode::OK));
    assert_eq!(app.live_sessions(&user), 12);
}

async fn a_disable_racing_sign_ins_leaves_no_live_session() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    app.login_as(&admin).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let (client, url) = (reqwest::Client::new(), app.url("/api/auth/token"));
        let form = [
            ("grant_type", "password".to_owned()),
            ("username", user.email.clone()),
            ("password", PASSWORD.to_owned()),
        ];
        set.spawn(async move {
            client.post(url).form(&form).send().await.unwrap();
        });
    }
    let disable = app.post_form(&format!("/admin/users/{}/disable", user.id), &[("csrf_token", &csrf)]).await;
    assert_eq!(disable.status(), StatusCode::SEE_OTHER);
    set.join_all().await;
    assert_eq!(app.live_sessions(&user), 0, "a sign-in that raced the disable must not survive it");
    let after = app.token(&user.email, PASSWORD).await.status();
    // 400 invalid_grant, or 429 once the refused racers used up the account's free failures.
    assert!(after == StatusCode::BAD_REQUEST || after == StatusCode::TOO_MANY_REQUESTS, "{after}");
}

async fn parallel_logouts_and_refreshes_of_one_session_end_it_cleanly() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let body: Value = app.token(&user.email, PASSWORD).await.json().await.unwrap();
    let (access, refresh) = (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    );
    let mut set = JoinSet::new();
    for i in 0..10 {
        let (client, base, access, refresh) =
            (reqwest::Client::new(), app.address.clone(), access.clone(), refresh.clone());
        set.spawn(async move {
            if i % 2 == 0 {
                client
                    .post(format!("{base}/api/auth/logout"))
                    .bearer_auth(access)
                    .send()
                    .await
                    .unwrap()
                    .status()
            } else {
                let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
                client.post(format!("{base}/api/auth/token")).form(&form).send().await.unwrap().status()
            }
        });
    }
    for status in set.join_all().await {
        assert!(
            status.is_success() || status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED,
            "{status}"
        );
    }
    assert_eq!(app.live_sessions(&user), 0);
}

/// The enabled administrators, as the database has them.
fn enabled_admins(app: &TestApp) -> i64 {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use portcullis::db::schema::users;
    let mut conn = app.pool.get().unwrap();
    users::table
        .filter(users::role.eq("admin"))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(&mut **conn)
        .unwrap()
}

/// Two administrators demote (or disable, or delete) each other at the same moment: one wins,
/// the other gets 409 `last_admin`, and an enabled administrator is always left.
async fn two_admins_removing_each_other_at_once_leave_one() {
    let app = spawn_app().await;
    let mut rounds = 0;
    for action in ["demote", "disable", "delete"] {
        for _ in 0..12 {
            rounds += 1;
            let (a, b) = (app.add_user(Role::Admin), app.add_user(Role::Admin));
            let (ta, tb) = (app.bearer_for(&a).await, app.bearer_for(&b).await);
            // Earlier rounds' survivor steps down, so these two are the only admins.
            for other in all_admins_but(&app, &[&a.id, &b.id]) {
                demote_in_db(&app, &other);
            }
            let mut set = JoinSet::new();
            for (token, target) in [(ta, b.id.clone()), (tb, a.id.clone())] {
                let (method, path, body) = match action {
                    "demote" => (
                        reqwest::Method::PUT,
                        format!("/api/admin/users/{target}/role"),
                        Some(json!({"role": "user"})),
                    ),
                    "disable" => (reqwest::Method::POST, format!("/api/admin/users/{target}/disable"), None),
                    _ => (reqwest::Method::DELETE, format!("/api/admin/users/{target}"), None),
                };
                let mut req = reqwest::Client::new().request(method, app.url(&path)).bearer_auth(token);
                if let Some(body) = body {
                    req = req.json(&body);
                }
                set.spawn(async move { req.send().await.unwrap().status() });
            }
            let statuses = set.join_all().await;
            assert!(statuses.iter().all(|s| *s != StatusCode::INTERNAL_SERVER_ERROR), "{statuses:?}");
            assert_eq!(enabled_admins(&app), 1, "{action} round {rounds}: {statuses:?}");
        }
    }
}

fn all_admins_but(app: &TestApp, keep: &[&String]) -> Vec<String> {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use portcullis::db::schema::users;
    let mut conn = app.pool.get().unwrap();
    let ids: Vec<String> =
        users::table.filter(users::role.eq("admin")).select(users::id).load(&mut **conn).unwrap();
    ids.into_iter().filter(|id| !keep.contains(&id)).collect()
}

fn demote_in_db(app: &TestApp, id: &str) {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use portcullis::db::schema::users;
    let mut conn = app.pool.get().unwrap();
    diesel::update(users::table.find(id)).set(users::role.eq("user")).execute(&mut **conn).unwrap();
}

crate::helpers::backend_tests!(
    two_admins_removing_each_other_at_once_leave_one,
    parallel_sign_ins_each_get_their_own_session,
    a_disable_racing_sign_ins_leaves_no_live_session,
    parallel_logouts_and_refreshes_of_one_session_end_it_cleanly,
);
