//! Refresh-token rotations per second through the real HTTP endpoint.
//!
//! `cargo bench --bench refresh_rate` (SQLite in a temp dir; set DATABASE_URL=postgres://…
//! to measure PostgreSQL) starts the server in-process, opens SESSIONS sessions, then
//! rotates each session's own chain (`grant_type=refresh_token`) from SESSIONS concurrent
//! clients for DURATION, and prints rotations per second and latency percentiles.

use std::time::{Duration, Instant};

use portcullis::auth::account::register;
use portcullis::auth::password;
use portcullis::config::Settings;
use portcullis::db;
use portcullis::domain::{Email, Role};
use portcullis::startup::Application;
use secrecy::SecretString;
use serde_json::Value;

const SESSIONS: usize = 32;
const DURATION: Duration = Duration::from_secs(10);
const PASSWORD: &str = "tangerine orbit velvet cactus";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| dir.path().join("bench.db").display().to_string());
    let mut settings = Settings::with_database(url);
    settings.addr = "127.0.0.1:0".parse().expect("addr");
    settings.key_file = dir.path().join("key");
    let app = Application::build(settings.clone()).expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let pool = db::connect(&settings.database_url, 1, settings.db_timeout).expect("pool");
    let hash = password::hash_blocking(&SecretString::from(PASSWORD)).expect("hash");
    let email = format!("refresh-bench-{}@example.com", std::process::id());
    let parsed = Email::try_from(email.as_str()).expect("email");
    register::create_user(&mut pool.get().expect("conn"), &parsed, &hash, Role::User, true).expect("user");

    let client = reqwest::Client::new();
    let endpoint = format!("{base}/api/auth/token");
    let mut chains = Vec::new();
    for _ in 0..SESSIONS {
        let form = [("grant_type", "password"), ("username", email.as_str()), ("password", PASSWORD)];
        let body: Value =
            client.post(&endpoint).form(&form).send().await.expect("login").json().await.expect("json");
        chains.push(body["refresh_token"].as_str().expect("refresh token").to_owned());
    }

    let start = Instant::now();
    let mut tasks = Vec::new();
    for mut token in chains {
        let (client, endpoint) = (client.clone(), endpoint.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while start.elapsed() < DURATION {
                let t = Instant::now();
                let form = [("grant_type", "refresh_token"), ("refresh_token", token.as_str())];
                let body: Value = client
                    .post(&endpoint)
                    .form(&form)
                    .send()
                    .await
                    .expect("refresh")
                    .json()
                    .await
                    .expect("json");
                token = body["refresh_token"].as_str().expect("rotated").to_owned();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| all[((all.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    let backend = if settings.database_url.starts_with("postgres") { "postgres" } else { "sqlite" };
    println!(
        "refresh rotations ({backend}, {SESSIONS} concurrent chains): {:.0}/s  p50 {:.2} ms  p99 {:.2} ms  ({} rotations in {elapsed:.1} s)",
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99),
        all.len()
    );
}
