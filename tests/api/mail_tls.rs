//! SMTP over TLS as an operator configures it: STARTTLS required (`smtp://…?tls=required`) and
//! implicit TLS (`smtps://…`), the relay's certificate trusted through the system store (here a
//! test certificate named by `SSL_CERT_FILE`). Runs the built binary, so that variable stays
//! its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use portcullis::domain::{Email, Role};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::Instance;
use crate::helpers::PASSWORD;
use portcullis_testkit::SmtpSink;

/// A throwaway CA and a certificate it issued for `localhost` (webpki refuses a CA certificate
/// as the server's own): `(ca, cert, key)`, or `None` (printed) without openssl.
fn certificate(dir: &Path) -> Option<(PathBuf, PathBuf, PathBuf)> {
    let path = |name: &str| dir.join(name);
    std::fs::write(path("leaf.ext"), "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n").unwrap();
    let steps: [Vec<String>; 3] = [
        "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=Portcullis-test-CA -keyout ca.key -out ca.pem",
        "req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout key.pem -out leaf.csr",
        "x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.ext -out cert.pem",
    ]
    .map(|step| step.split(' ').map(str::to_owned).collect());
    for args in steps {
        let made = Command::new("openssl").args(&args).current_dir(dir).output();
        if !made.is_ok_and(|out| out.status.success()) {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but openssl cannot make a certificate"
            );
            eprintln!("skipping: openssl is missing or failed");
            return None;
        }
    }
    Some((path("ca.pem"), path("cert.pem"), path("key.pem")))
}

/// Starts the binary with `smtp_url` and `ca` as the system's trust store, asks for a reset
/// link for a fresh account, and says whether the mail reached `sink`.
async fn reaches(sink: &SmtpSink, smtp_url: &str, ca: &Path) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tls.db").display().to_string();
    let pool = portcullis::db::connect(&db, 1, Duration::from_secs(5)).unwrap();
    let email = "tls-reader@example.com";
    let hash = portcullis::auth::password::hash_blocking(&PASSWORD.to_owned().into()).unwrap();
    portcullis::auth::account::register::create_user(
        &mut pool.get().unwrap(),
        &Email::try_from(email).unwrap(),
        &hash,
        Role::User,
        true,
    )
    .unwrap();
    let ca = ca.display().to_string();
    let instance = Instance::start(&db, &[("PORTCULLIS_SMTP_URL", smtp_url), ("SSL_CERT_FILE", ca.as_str())]);
    let res = reqwest::Client::new()
        .post(instance.url("/api/auth/forgot-password"))
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    for _ in 0..40 {
        if sink.received().iter().any(|m| m.to == email) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_required_delivers_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = certificate(dir.path()) else { return };
    let Some(sink) = SmtpSink::start_tls("starttls", &cert, &key) else { return };
    assert!(reaches(&sink, &format!("smtp://localhost:{}?tls=required", sink.port), &ca).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opportunistic_starttls_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = certificate(dir.path()) else { return };
    // The server requires STARTTLS: a client that did not upgrade would be refused.
    let Some(sink) = SmtpSink::start_tls("starttls", &cert, &key) else { return };
    assert!(reaches(&sink, &format!("smtp://localhost:{}", sink.port), &ca).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, cert, key)) = certificate(dir.path()) else { return };
    let Some(sink) = SmtpSink::start_tls("tls", &cert, &key) else { return };
    assert!(reaches(&sink, &format!("smtps://localhost:{}", sink.port), &ca).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_required_never_falls_back_to_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ca, _, _)) = certificate(dir.path()) else { return };
    let Some(sink) = SmtpSink::start() else { return };
    assert!(!reaches(&sink, &format!("smtp://localhost:{}?tls=required", sink.port), &ca).await);
}
