//! Several Portcullis processes on one PostgreSQL database, as behind a load balancer.

use std::time::Duration;

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, Instance, TestApp, refresh, spawn_app_on, token};

async fn me(base: &Instance, access: &str) -> StatusCode {
    reqwest::Client::new()
        .get(base.url("/api/me"))
        .bearer_auth(access)
        .send()
        .await
        .expect("request")
        .status()
}

/// A PostgreSQL test database (migrated by an in-process app, which also gives us a pool
/// to create users with). `None` when PostgreSQL is absent outside CI.
async fn shared_database() -> Option<TestApp> {
    if std::net::TcpStream::connect("127.0.0.1:5432").is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but PostgreSQL is not reachable");
        return None;
    }
    Some(spawn_app_on(Backend::Postgres, |_| {}).await)
}

fn pair(body: &Value) -> (String, String) {
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behave_as_one() {
    let Some(db) = shared_database().await else { return };
    let url = db.settings.database_url.clone();
    let (a, mut b) = (Instance::start(&url, &[]), Instance::start(&url, &[]));
    let user = db.add_user(Role::User);

    // A token from A works on B.
    let body: Value = token(&a, &user.email, &user.password).await.json().await.unwrap();
    let (access, _) = pair(&body);
    assert_eq!(me(&b, &access).await, StatusCode::OK);

    // A logout on A is refused on B at the next request.
    let logout =
        reqwest::Client::new().post(a.url("/api/auth/logout")).bearer_auth(&access).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&b, &access).await, StatusCode::UNAUTHORIZED);

    // Restarting an instance keeps every session.
    let body: Value = token(&a, &user.email, &user.password).await.json().await.unwrap();
    let (access, refresh_token) = pair(&body);
    b.kill();
    let b = Instance::start(&url, &[]);
    assert_eq!(me(&b, &access).await, StatusCode::OK);
    assert_eq!(refresh(&b, &refresh_token).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_replay_is_detected_across_instances() {
    let Some(db) = shared_database().await else { return };
    let url = db.settings.database_url.clone();
    let env = [("PORTCULLIS_REFRESH_GRACE", "1s")];
    let (a, b) = (Instance::start(&url, &env), Instance::start(&url, &env));
    let user = db.add_user(Role::User);
    let body: Value = token(&a, &user.email, &user.password).await.json().await.unwrap();
    let (_, stolen) = pair(&body);
    let rotated: Value = refresh(&a, &stolen).await.json().await.unwrap();
    let (access2, _) = pair(&rotated);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(refresh(&b, &stolen).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(me(&a, &access2).await, StatusCode::UNAUTHORIZED, "the session died on every instance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_throttle_is_shared() {
    let Some(db) = shared_database().await else { return };
    let url = db.settings.database_url.clone();
    let (a, b) = (Instance::start(&url, &[]), Instance::start(&url, &[]));
    let user = db.add_user(Role::User);
    for i in 0..5 {
        let instance = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            token(instance, &user.email, "wrong wrong wrong wrong").await.status(),
            StatusCode::BAD_REQUEST
        );
    }
    for instance in [&a, &b] {
        assert_eq!(
            token(instance, &user.email, &user.password).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_log_never_shows_a_query_string() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("log.db").display().to_string();
    let instance = Instance::start(&db, &[]);
    let res = reqwest::get(instance.url("/login?next=%2Fprivate&token=secret-query-value")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let line = (0..50)
        .find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            instance.log.lock().unwrap().iter().find(|l| l.contains("GET /login")).cloned()
        })
        .expect("a request line for GET /login");
    assert!(line.contains(" 200 "), "{line}");
    let log = instance.log.lock().unwrap().join("\n");
    assert!(!log.contains("secret-query-value") && !log.contains("next="), "{log}");
}
