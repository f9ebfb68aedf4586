//! Several Portcullis processes on one PostgreSQL database, as behind a load balancer.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, spawn_app_on};

const SECRET: &str = "shared-secret-for-every-instance-0123456789";
const PUBLIC_URL: &str = "http://auth.test.internal";

/// One `portcullis serve` process. Killed when dropped.
pub struct Instance {
    child: Child,
    pub base: String,
    /// Every line the process has logged so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Instance {
    pub fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        command
            .env("DATABASE_URL", database_url)
            .env("PORTCULLIS_ADDR", "127.0.0.1:0")
            .env("PORTCULLIS_JWT_SECRET", SECRET)
            .env("PORTCULLIS_PUBLIC_URL", PUBLIC_URL)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("portcullis starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let base = loop {
            let line = lines.next().expect("the server logs its address").expect("utf-8 log");
            if let Some(at) = line.find("listening on http://") {
                // A text line ends with the address; a JSON one goes on after a quote.
                let rest = &line[at + "listening on ".len()..];
                break rest.split(['"', ' ']).next().unwrap_or_default().trim().to_owned();
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process's resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number")
    }

    /// SIGKILL: no graceful shutdown, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn token(base: &Instance, email: &str, password: &str) -> reqwest::Response {
    let form = [("grant_type", "password"), ("username", email), ("password", password)];
    reqwest::Client::new().post(base.url("/api/auth/token")).form(&form).send().await.expect("request")
}

pub async fn refresh(base: &Instance, refresh_token: &str) -> reqwest::Response {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    reqwest::Client::new().post(base.url("/api/auth/token")).form(&form).send().await.expect("request")
}

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
