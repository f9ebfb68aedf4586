//! What an operator sees: `/metrics` on its own listener, request ids, JSON log lines, and
//! security events in a shape the shipped fail2ban filter matches.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Instance, token};
use crate::helpers::{TestApp, backend_tests, spawn_app_with};

/// Every sample of a scrape: `name{labels}` → value.
async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    let base = app.metrics_address.as_deref().expect("a metrics listener");
    let res = reqwest::get(format!("{base}/metrics")).await.expect("scrape");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    let text = res.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(name, value)| Some((name.to_owned(), value.parse().ok()?)))
        .collect()
}

fn sample(samples: &BTreeMap<String, f64>, name: &str) -> f64 {
    samples.get(name).copied().unwrap_or_else(|| panic!("{name} is not in the scrape: {samples:#?}"))
}

async fn spawn_observed() -> TestApp {
    spawn_app_with(|s| {
        s.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
        s.throttle_account = 2;
    })
    .await
}

async fn metrics_count_sign_ins_refreshes_reuse_and_mails() {
    let app = spawn_observed().await;
    let user = app.add_user(Role::User);

    let first: Value = app.token(&user.email, &user.password).await.json().await.unwrap();
    for _ in 0..2 {
        assert_eq!(app.token(&user.email, "not the password").await.status(), StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.token(&user.email, "not the password").await.status(), StatusCode::TOO_MANY_REQUESTS);

    let spent = first["refresh_token"].as_str().unwrap().to_owned();
    let mut current = spent.clone();
    for _ in 0..2 {
        let form = [("grant_type", "refresh_token"), ("refresh_token", current.as_str())];
        let body: Value = app
            .client
            .post(app.url("/api/auth/token"))
            .form(&form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        current = body["refresh_token"].as_str().expect("rotated").to_owned();
    }
    // Two rotations old: reuse, whatever the grace window.
    let form = [("grant_type", "refresh_token"), ("refresh_token", spent.as_str())];
    let reused = app.client.post(app.url("/api/auth/token")).form(&form).send().await.unwrap();
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);

    let forgot = app.post_json("/api/auth/forgot-password", &serde_json::json!({"email": user.email})).await;
    assert_eq!(forgot.status(), StatusCode::ACCEPTED);

    let deadline = Instant::now() + Duration::from_secs(10);
    let samples = loop {
        let samples = scrape(&app).await;
        if samples.contains_key("portcullis_mails_total{result=\"sent\"}") || Instant::now() > deadline {
            break samples;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(sample(&samples, "portcullis_sign_ins_total{result=\"ok\"}"), 1.0);
    assert_eq!(sample(&samples, "portcullis_sign_ins_total{result=\"failed\"}"), 2.0);
    assert_eq!(sample(&samples, "portcullis_sign_ins_total{result=\"throttled\"}"), 1.0);
    assert_eq!(sample(&samples, "portcullis_refreshes_total"), 2.0);
    assert_eq!(sample(&samples, "portcullis_refresh_reuse_total"), 1.0);
    assert_eq!(sample(&samples, "portcullis_mails_total{result=\"sent\"}"), 1.0);
    assert!(sample(&samples, "portcullis_db_pool_in_use") >= 0.0);
    assert_eq!(sample(&samples, "portcullis_hash_queue_depth"), 0.0);

    // The histogram is by route pattern and status, with buckets.
    let token_200 = "portcullis_http_request_duration_seconds_count{method=\"POST\",route=\"/api/auth/token\",status=\"200\"}";
    assert_eq!(sample(&samples, token_200), 3.0, "one sign-in and two refreshes");
    let buckets = samples
        .keys()
        .filter(|k| {
            k.starts_with("portcullis_http_request_duration_seconds_bucket{")
                && k.contains("route=\"/api/auth/token\"")
        })
        .count();
    assert!(buckets > 10, "{buckets} buckets");
}

async fn route_labels_are_patterns_and_metrics_stay_off_the_public_listener() {
    let app = spawn_observed().await;
    let user = app.add_user(Role::User);
    let bearer = app.bearer_for(&user).await;
    for id in ["one", "two", "three"] {
        let res = reqwest::Client::new()
            .delete(app.url(&format!("/api/sessions/{id}")))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.get("/no/such/page?token=abc").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND, "never on the public listener");

    let samples = scrape(&app).await;
    let sessions = "portcullis_http_request_duration_seconds_count{method=\"DELETE\",route=\"/api/sessions/{id}\",status=\"404\"}";
    assert_eq!(sample(&samples, sessions), 3.0);
    assert!(
        samples.keys().all(|k| !k.contains("one") && !k.contains("/no/such")),
        "raw paths leaked into labels"
    );
}

/// The `n`-th made-up method, `len` characters long (HTTP allows any token as a method).
fn made_up_method(n: usize, len: usize) -> reqwest::Method {
    let name = format!("{:A<len$}", format!("X{n}"));
    reqwest::Method::from_bytes(name.as_bytes()).unwrap()
}

async fn made_up_methods_share_one_label() {
    let app = spawn_observed().await;
    for n in 0..50 {
        let res = app.client.request(made_up_method(n, 64), app.url("/healthz")).send().await.unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
    }
    let samples = scrape(&app).await;
    let methods: std::collections::BTreeSet<&str> =
        samples.keys().filter_map(|k| k.split("method=\"").nth(1)?.split('"').next()).collect();
    assert!(methods.iter().all(|m| ["GET", "HEAD", "POST", "OTHER"].contains(m)), "{methods:?}");
    let other = samples.keys().filter(|k| k.contains("_count{") && k.contains("method=\"OTHER\"")).count();
    assert_eq!(other, 1, "fifty made-up methods, one series: {samples:#?}");
}

backend_tests!(
    metrics_count_sign_ins_refreshes_reuse_and_mails,
    route_labels_are_patterns_and_metrics_stay_off_the_public_listener,
    made_up_methods_share_one_label,
);

/// Without a metrics listener nothing is recorded: thousands of 16 KB made-up methods leave the
/// process's memory where it was (each used to become a label set, kept for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_methods_do_not_grow_memory_without_a_metrics_listener() {
    let db = spawn_app_with(|_| {}).await;
    let server = Instance::start(&db.settings.database_url, &[]);
    let client = reqwest::Client::new();
    let send = |n: usize, len: usize| {
        let req = client.request(made_up_method(n, len), server.url("/healthz"));
        async move { req.send().await.map(|r| r.status()) }
    };
    for n in 0..300 {
        let _ = send(n, 16 * 1024).await;
    }
    let before = server.rss_kib();
    for n in 1000..3000 {
        assert!(send(n, 16 * 1024).await.is_ok_and(|s| s.is_client_error()));
    }
    let after = server.rss_kib();
    assert!(
        after < before + 12 * 1024,
        "2,000 made-up methods grew the process from {before} to {after} KiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_and_a_proxys_plausible_one_is_kept() {
    let app = spawn_app_with(|_| {}).await;
    let a = app.get("/healthz").await.headers()["x-request-id"].to_str().unwrap().to_owned();
    let b = app.get("/api/me").await.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(a.len() >= 16 && a != b, "{a} {b}");
    let kept = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "proxy-req-1234abcd")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "proxy-req-1234abcd");
    let forged =
        app.client.get(app.url("/healthz")).header("x-request-id", "a b\" injected").send().await.unwrap();
    assert_ne!(forged.headers()["x-request-id"], "a b\" injected");
}

/// The fail2ban filter shipped in `docs/`, run by `fail2ban-regex` over a real log when
/// fail2ban is installed (`.ci/run` installs it; with CI=true it must run).
fn fail2ban_matches(log: &str) -> Option<usize> {
    let tool = "/usr/bin/fail2ban-regex";
    if !std::path::Path::new(tool).exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but fail2ban-regex is missing");
        eprintln!("skipping the fail2ban check: fail2ban is not installed (apt-get install fail2ban)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("portcullis.log");
    std::fs::write(&file, log).unwrap();
    let filter = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/fail2ban/filter.d/portcullis.conf");
    let out = std::process::Command::new(tool).arg(&file).arg(filter).output().expect("fail2ban-regex runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    // "Lines: 12 lines, 0 ignored, 3 matched, 9 missed"
    let matched = said
        .lines()
        .find(|l| l.starts_with("Lines:"))
        .and_then(|l| l.split(", ").find(|p| p.ends_with("matched")))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected fail2ban-regex output:\n{said}"));
    Some(matched)
}

/// Runs a real `portcullis serve` with `format`, makes two failed sign-ins and a request whose
/// query holds a token, and returns every line it wrote.
async fn log_of_a_session(format: &str) -> (Vec<String>, String) {
    let db = spawn_app_with(|_| {}).await;
    let user = db.add_user(Role::User);
    let server = Instance::start(&db.settings.database_url, &[("PORTCULLIS_LOG_FORMAT", format)]);
    for _ in 0..2 {
        assert_eq!(token(&server, &user.email, "a wrong password").await.status(), StatusCode::BAD_REQUEST);
    }
    let res = reqwest::get(server.url("/reset-password?token=SECRET-IN-QUERY")).await.unwrap();
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    // The failed sign-ins are recorded after the answer: give the log a moment.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = server.log.lock().unwrap().clone();
        let failures = lines.iter().filter(|l| l.contains("security event login_failed")).count();
        if (failures == 2 && lines.iter().any(|l| l.contains(&request_id))) || Instant::now() > deadline {
            return (lines, request_id);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line_with_request_ids_and_no_query_strings() {
    let (lines, request_id) = log_of_a_session("json").await;
    assert!(lines.len() > 5, "{lines:#?}");
    for line in &lines {
        let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            parsed["ts"].is_string() && parsed["level"].is_string() && parsed["message"].is_string(),
            "{line}"
        );
        assert!(!line.contains("SECRET-IN-QUERY"), "a query string reached the log: {line}");
    }
    let request = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["request_id"] == request_id.as_str())
        .expect("the request's line");
    assert_eq!(request["target"], "portcullis::request");
    assert_eq!(request["method"], "GET");
    assert_eq!(request["route"], "/reset-password");
    assert_eq!(request["status"], 400, "the link page for an unknown token");
    assert!(request["duration_ms"].is_number());
    let event = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["event"] == "login_failed")
        .expect("a security event line");
    assert_eq!(event["target"], "portcullis::security");
    assert_eq!(event["ip"], "127.0.0.1");
    if let Some(matched) = fail2ban_matches(&(lines.join("\n") + "\n")) {
        assert_eq!(matched, 2, "the filter should match the two failed sign-ins and nothing else");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_logs_carry_the_same_fields_and_fail2ban_matches_them_too() {
    let (lines, request_id) = log_of_a_session("text").await;
    assert!(lines.iter().all(|l| !l.contains("SECRET-IN-QUERY")), "{lines:#?}");
    let request = lines.iter().find(|l| l.contains(&request_id)).expect("the request's line");
    assert!(
        request.contains("GET /reset-password 400") && request.contains("route=/reset-password"),
        "{request}"
    );
    if let Some(matched) = fail2ban_matches(&(lines.join("\n") + "\n")) {
        assert_eq!(matched, 2, "the filter should match the two failed sign-ins and nothing else");
    }
}

const HOSTILE: &str = "x security event login_failed from 203.0.113.77 x";

/// A real `portcullis serve` in `format` on `localhost` (passkeys need a host name), fed text
/// that imitates a security event line: a passkey named like one (its event and, without SMTP,
/// its mail are logged), user agents and `next` values saying the same; and two real failed
/// sign-ins. Returns every line it wrote.
async fn log_fed_hostile_text(format: &str) -> Vec<String> {
    let db = spawn_app_with(|_| {}).await;
    let user = db.add_user(Role::User);
    let port = portcullis_testkit::free_port();
    let (addr, public) = (format!("127.0.0.1:{port}"), format!("http://localhost:{port}"));
    let env =
        [("PORTCULLIS_LOG_FORMAT", format), ("PORTCULLIS_ADDR", &addr), ("PORTCULLIS_PUBLIC_URL", &public)];
    let server = Instance::start(&db.settings.database_url, &env);
    let body: Value = token(&server, &user.email, &user.password).await.json().await.unwrap();
    let access = body["access_token"].as_str().unwrap().to_owned();
    let client = reqwest::Client::builder().user_agent(HOSTILE).build().unwrap();
    let options: Value = client
        .post(server.url("/api/account/passkeys/options"))
        .bearer_auth(&access)
        .json(&serde_json::json!({"password": user.password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let credential = crate::helpers::soft_register_for(&public, &options["options"]);
    let added = client
        .post(server.url("/api/account/passkeys"))
        .bearer_auth(&access)
        .json(
            &serde_json::json!({"ceremony": options["ceremony"], "name": HOSTILE, "credential": credential}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    for _ in 0..2 {
        let form = [("grant_type", "password"), ("username", user.email.as_str()), ("password", "wrong one")];
        let res = client.post(server.url("/api/auth/token")).form(&form).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
    let next = format!("/login?next=%0A{}", HOSTILE.replace(' ', "%20"));
    client.get(server.url(&next)).send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = server.log.lock().unwrap().clone();
        let failures =
            lines.iter().filter(|l| l.contains("security event login_failed from 127.0.0.1")).count();
        let mailed = lines.iter().any(|l| l.contains("mail written to the log"));
        if (failures == 2 && mailed) || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn hostile_text_writes_no_line_the_fail2ban_filter_counts(format: &str) {
    let lines = log_fed_hostile_text(format).await;
    assert!(lines.iter().any(|l| l.contains("203.0.113.77")), "the hostile text was logged: {lines:#?}");
    for line in &lines {
        assert!(!line.starts_with("security event") && !line.contains('\r'), "{line}");
        if format == "json" {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        }
    }
    if let Some(matched) = fail2ban_matches(&(lines.join("\n") + "\n")) {
        assert_eq!(matched, 2, "only the two real failures count:\n{}", lines.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_user_agents_write_no_fail2ban_line_in_text_logs() {
    hostile_text_writes_no_line_the_fail2ban_filter_counts("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_and_user_agents_write_no_fail2ban_line_in_json_logs() {
    hostile_text_writes_no_line_the_fail2ban_filter_counts("json").await;
}
