//! Is a known email distinguishable from an unknown one by timing — at sign-in, and at
//! "forgot password"?
//!
//! `cargo bench --bench login_timing` starts the real server (release build, SQLite in a
//! temp dir, throttling out of the way), then sends ATTEMPTS sign-ins one at a time,
//! randomly interleaving "known email, wrong password" and "unknown email", and prints
//! the median and spread of each, plus whether status and body were identical. Then the same
//! for `POST /api/auth/forgot-password`, each request from its own client address (through a
//! trusted proxy's `X-Forwarded-For`) and each known address asked for once, so no limit
//! interferes; a known address queues a mail (no SMTP server is involved either way).

use std::time::{Duration, Instant};

use portcullis::auth::account::register;
use portcullis::auth::password;
use portcullis::config::Settings;
use portcullis::db;
use portcullis::domain::{Email, Role};
use portcullis::startup::Application;
use secrecy::SecretString;

const ATTEMPTS: usize = 400;
const ACCOUNTS: usize = 400;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings::with_database(dir.path().join("timing.db").display().to_string());
    settings.addr = "127.0.0.1:0".parse().expect("addr");
    settings.key_file = dir.path().join("key");
    settings.throttle_account = 1_000_000;
    settings.throttle_ip = 1_000_000;
    settings.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")];
    let app = Application::build(settings.clone()).expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let pool = db::connect(&settings.database_url, 1, settings.db_timeout).expect("pool");
    let hash = password::hash_blocking(&SecretString::from("tangerine orbit velvet cactus")).expect("hash");
    let mut conn = pool.get().expect("conn");
    let known: Vec<String> = (0..ACCOUNTS)
        .map(|i| {
            let email = format!("known{i}@example.com");
            register::create_user(
                &mut conn,
                &Email::try_from(email.as_str()).expect("email"),
                &hash,
                Role::User,
                true,
            )
            .expect("user");
            email
        })
        .collect();

    let client = reqwest::Client::new();
    let url = format!("{base}/api/auth/token");
    let mut wrong = Vec::new();
    let mut unknown = Vec::new();
    let mut bodies = std::collections::HashSet::new();
    for i in 0..(ATTEMPTS + 20) {
        let is_known = rand::random::<bool>();
        let email = if is_known { known[i % ACCOUNTS].clone() } else { format!("ghost{i}@example.com") };
        let form = [
            ("grant_type", "password"),
            ("username", email.as_str()),
            ("password", "not the password at all"),
        ];
        let start = Instant::now();
        let res = client.post(&url).form(&form).send().await.expect("request");
        let status = res.status().as_u16();
        let body = res.text().await.expect("body");
        let elapsed = start.elapsed();
        if i < 20 {
            continue; // warm-up
        }
        bodies.insert((status, body));
        if is_known { wrong.push(elapsed) } else { unknown.push(elapsed) }
    }
    report("wrong password", &mut wrong);
    report("unknown email ", &mut unknown);
    let diff = median(&mut wrong).as_secs_f64() - median(&mut unknown).as_secs_f64();
    println!("median difference (wrong − unknown): {:+.2} ms", diff * 1000.0);
    println!("distinct (status, body) pairs across all attempts: {}", bodies.len());

    let url = format!("{base}/api/auth/forgot-password");
    let (mut known_times, mut unknown_times, mut answers) =
        (Vec::new(), Vec::new(), std::collections::HashSet::new());
    for i in 0..(ATTEMPTS + 20) {
        let is_known = rand::random::<bool>();
        let email = if is_known { known[i % ACCOUNTS].clone() } else { format!("nobody{i}@example.com") };
        let client_ip = format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256);
        let request =
            client.post(&url).header("x-forwarded-for", client_ip).json(&serde_json::json!({"email": email}));
        let start = Instant::now();
        let res = request.send().await.expect("request");
        let answer = (res.status().as_u16(), res.text().await.expect("body"));
        let elapsed = start.elapsed();
        if i < 20 {
            continue;
        }
        answers.insert(answer);
        if is_known { known_times.push(elapsed) } else { unknown_times.push(elapsed) }
    }
    report("forgot, known  ", &mut known_times);
    report("forgot, unknown", &mut unknown_times);
    let diff = median(&mut known_times).as_secs_f64() - median(&mut unknown_times).as_secs_f64();
    println!("median difference (known − unknown): {:+.2} ms", diff * 1000.0);
    println!("distinct (status, body) pairs across all requests: {}", answers.len());
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let pct = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    println!(
        "{label}: n={:3}  p10 {:6.2} ms  median {:6.2} ms  p90 {:6.2} ms",
        samples.len(),
        pct(0.10),
        pct(0.50),
        pct(0.90)
    );
}
