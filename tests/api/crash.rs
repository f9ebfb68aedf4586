//! kill -9 during a refresh load: after a restart every user signs in and every session
//! continues from the last token its client holds (no session is half-rotated).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestUser, spawn_app_on};
use crate::helpers::{Instance, refresh, token};

const CLIENTS: usize = 6;

async fn crash_during_refreshes(backend: Backend) {
    let db = spawn_app_on(backend, |_| {}).await;
    let url = db.settings.database_url.clone();
    // A grace window longer than the restart: a client whose answer was lost in the
    // crash retries with the token it still holds.
    let env = [("PORTCULLIS_REFRESH_GRACE", "30s")];
    let mut server = Instance::start(&url, &env);
    let users: Vec<TestUser> = (0..CLIENTS).map(|_| db.add_user(Role::User)).collect();
    let mut held = Vec::new();
    for user in &users {
        let body: Value = token(&server, &user.email, &user.password).await.json().await.unwrap();
        held.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    let stop = Arc::new(AtomicBool::new(false));
    let base = server.base.clone();
    let mut tasks = Vec::new();
    for mut current in held {
        let (stop, base) = (stop.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
            let mut rotations = 0;
            while !stop.load(Ordering::Relaxed) {
                let form = [("grant_type", "refresh_token"), ("refresh_token", current.as_str())];
                let Ok(res) = client.post(format!("{base}/api/auth/token")).form(&form).send().await else {
                    break;
                };
                let Ok(body) = res.json::<Value>().await else { break };
                match body["refresh_token"].as_str() {
                    Some(next) => {
                        current = next.to_owned();
                        rotations += 1;
                    }
                    None => panic!("a refresh failed before the crash: {body}"),
                }
            }
            (current, rotations)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill();
    stop.store(true, Ordering::Relaxed);
    let mut last_tokens = Vec::new();
    for task in tasks {
        let (current, rotations) = task.await.unwrap();
        assert!(rotations > 0, "the load ran");
        last_tokens.push(current);
    }
    let server = Instance::start(&url, &env);
    for held in &last_tokens {
        let res = refresh(&server, held).await;
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "a session was lost in the crash: {}",
            res.text().await.unwrap()
        );
    }
    for user in &users {
        assert_eq!(token(&server, &user.email, &user.password).await.status(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_survives_kill_9_during_refreshes() {
    crash_during_refreshes(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_survives_kill_9_during_refreshes() {
    if std::net::TcpStream::connect("127.0.0.1:5432").is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but PostgreSQL is not reachable");
        return;
    }
    crash_during_refreshes(Backend::Postgres).await;
}
