//! Complete OpenID Connect flows per second (issue 24): a signed-in browser's authorization
//! (consent remembered) → the app's token request (code + PKCE, client_secret_post; an RS256 ID
//! token and an access token signed) → userinfo with the new access token.
//!
//! `cargo bench --bench oidc_flows` runs the real `portcullis` binary (built with the bench
//! profile) as its own process on SQLite in a temp dir (DATABASE_URL=postgres://… for
//! PostgreSQL), signs BROWSERS people in once, then runs flows from BROWSERS concurrent
//! browsers for DURATION. It prints flows/s with latency percentiles, the CPU time the server
//! and this load driver each used (so the driver is seen not to be the bottleneck), and the
//! ceiling RS256 signing alone allows on this machine's cores.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::cookie::Jar;
use serde_json::Value;

const BROWSERS: usize = 16;
const DURATION: Duration = Duration::from_secs(10);
const PASSWORD: &str = "tangerine orbit velvet cactus";
const CALLBACK: &str = "http://127.0.0.1:9/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url =
        std::env::var("DATABASE_URL").unwrap_or_else(|_| dir.path().join("bench.db").display().to_string());
    let port = portcullis_testkit::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let command = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        c.args(args)
            .env("DATABASE_URL", &url)
            .env("PORTCULLIS_KEY_FILE", dir.path().join("key"))
            .env("PORTCULLIS_ADDR", format!("127.0.0.1:{port}"))
            .env("PORTCULLIS_PUBLIC_URL", &base)
            .env("PORTCULLIS_THROTTLE_ACCOUNT", "1000000")
            .env("PORTCULLIS_THROTTLE_IP", "1000000")
            .env("RUST_LOG", "warn");
        c
    };
    let email = format!("flows-{}@example.com", std::process::id());
    let mut add = command(&["user", "add", &email]).stdin(Stdio::piped()).spawn().expect("user add");
    add.stdin.take().expect("stdin").write_all(format!("{PASSWORD}\n").as_bytes()).expect("password");
    assert!(add.wait().expect("user add").success());
    let out = command(&["client", "add", "Bench", "--skip-consent", "--redirect-uri", CALLBACK])
        .output()
        .expect("client add");
    let client: Value = serde_json::from_slice(&out.stdout).expect("client JSON");
    let (client_id, secret) = (
        client["client_id"].as_str().expect("id").to_owned(),
        client["client_secret"].as_str().expect("secret").to_owned(),
    );
    let mut server = command(&["serve"]).spawn().expect("serve");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "bench"),
        ("nonce", "n"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ])
    .expect("query");
    let authorize = Arc::new(format!("{base}/oauth/authorize?{query}"));
    let mut browsers = Vec::new();
    for _ in 0..BROWSERS {
        let jar = Arc::new(Jar::default());
        let browser = portcullis_testkit::client_with(jar);
        let login = serde_json::json!({"email": email, "password": PASSWORD});
        let res = browser.post(format!("{base}/api/auth/login")).json(&login).send().await.expect("login");
        assert!(res.status().is_success(), "sign-in: {}", res.status());
        browsers.push(browser);
    }
    let app = reqwest::Client::new();
    let server_cpu_before = cpu_secs(server.id());
    let driver_cpu_before = cpu_secs(std::process::id());
    let start = Instant::now();
    let mut tasks = Vec::new();
    for browser in browsers {
        let (app, authorize, base) = (app.clone(), authorize.clone(), base.clone());
        let (client_id, secret) = (client_id.clone(), secret.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while start.elapsed() < DURATION {
                let t = Instant::now();
                let res = browser.get(authorize.as_str()).send().await.expect("authorize");
                let location = res.headers()["location"].to_str().expect("location").to_owned();
                let code = location.split("code=").nth(1).and_then(|r| r.split('&').next()).expect("code");
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", CALLBACK),
                    ("code_verifier", VERIFIER),
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret.as_str()),
                ];
                let tokens: Value = app
                    .post(format!("{base}/api/auth/token"))
                    .form(&form)
                    .send()
                    .await
                    .expect("token")
                    .json()
                    .await
                    .expect("json");
                let access = tokens["access_token"].as_str().expect("access token");
                assert!(tokens["id_token"].is_string(), "an ID token");
                let info = app
                    .get(format!("{base}/api/oauth/userinfo"))
                    .bearer_auth(access)
                    .send()
                    .await
                    .expect("userinfo");
                assert!(info.status().is_success(), "userinfo: {}", info.status());
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
    let server_cpu = cpu_secs(server.id()) - server_cpu_before;
    let driver_cpu = cpu_secs(std::process::id()) - driver_cpu_before;
    let _ = server.kill();
    let _ = server.wait();
    all.sort();
    let pct = |p: f64| all[((all.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let flows = all.len() as f64 / elapsed;
    println!(
        "OpenID Connect flows ({backend}, {BROWSERS} browsers): {flows:.0}/s  p50 {:.2} ms  p99 {:.2} ms  ({} flows in {elapsed:.1} s)",
        pct(0.5),
        pct(0.99),
        all.len()
    );
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    println!(
        "CPU: server {:.2} cores, this driver {:.2} cores (of {cores:.0}); server CPU per flow {:.2} ms",
        server_cpu / elapsed,
        driver_cpu / elapsed,
        server_cpu * 1000.0 / all.len() as f64
    );
    let sign = rs256_sign_secs();
    println!(
        "RS256 signature: {:.3} ms on one core → ceiling {:.0} flows/s on {cores:.0} cores from ID-token signing alone",
        sign * 1000.0,
        cores / sign
    );
}

/// User + system CPU seconds `pid` has used so far (/proc/PID/stat fields 14 and 15).
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let hz = 100.0;
    (ticks(11) + ticks(12)) / hz
}

/// What one RS256 signature of an ID token costs, with the same key size and backend as the
/// server (AWS-LC through jsonwebtoken).
fn rs256_sign_secs() -> f64 {
    let alg = portcullis::keys::Alg::RS256;
    let der = alg.generate().expect("an RSA key");
    let pair = portcullis::keys::SigningPair::from_der(alg, &der).expect("a key pair");
    let claims = serde_json::json!({"iss": "https://id.example", "sub": "u", "aud": "c", "exp": 2_000_000_000, "iat": 1});
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    let n = 200;
    let t = Instant::now();
    for _ in 0..n {
        jsonwebtoken::encode(&header, &claims, &pair.encoding).expect("signed");
    }
    t.elapsed().as_secs_f64() / f64::from(n)
}
