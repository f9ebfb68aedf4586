//! Relying parties written by others, against a running Portcullis (SPEC §11, issue 24): panva's
//! `openid-client` 6 in node (`tests/rp/openid_client.mjs`) for a confidential and a public
//! app, and `authlib` in Python (`tests/rp/authlib_rp.py`). Each builds its own authorization
//! request; the signed-in browser (the cookie-keeping client) signs in and consents; the
//! library redeems the code and checks everything it checks. `.ci/run` installs them under
//! `target/`; without them a local run skips with the reason, and CI=true makes them required.

use std::path::PathBuf;
use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::{App, CALLBACK, location, register};
use crate::helpers::{TestApp, spawn_app_on};
use portcullis::domain::Role;
use portcullis_testkit::Backend;

/// Where `.ci/run` installs the node relying party.
fn node_modules() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/rp-node/node_modules"))
}

fn python_rp() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/schemathesis-venv/bin/python"))
}

fn present(path: &std::path::Path, install: &str) -> bool {
    if path.exists() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {} is missing", path.display());
    eprintln!("skipping: {} is missing ({install})", path.display());
    false
}

/// What the browser does between the app's authorization URL and its callback: sign in,
/// consent, follow Portcullis back to the app. The callback URL it was sent to.
async fn browse(app: &TestApp, authorization_url: &str) -> String {
    let path = authorization_url.strip_prefix(&app.address).expect("the issuer's authorization endpoint");
    let mut res = app.get(path).await;
    if res.status() == StatusCode::OK {
        let query = path.split_once('?').expect("a query").1;
        let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
        form.push(("csrf_token".into(), app.cookie("csrf_token").expect("csrf")));
        form.push(("decision".into(), "allow".into()));
        res = app.client.post(app.url("/oauth/authorize")).form(&form).send().await.expect("consent");
    }
    let back = location(&res);
    assert!(back.starts_with(CALLBACK), "{back}");
    back
}

/// Runs a relying party: it prints the authorization URL, the browser goes through, the callback
/// goes back on stdin; its JSON result.
async fn run_rp(app: &TestApp, mut command: Command) -> Value {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the relying party starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let url = stdout.next_line().await.expect("read").unwrap_or_default();
    if !url.starts_with("http") {
        let out = child.wait_with_output().await.expect("exit");
        panic!("no authorization URL: {url}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let callback = browse(app, &url).await;
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(format!("{callback}\n").as_bytes()).await.expect("write");
    drop(stdin);
    let result = stdout.next_line().await.expect("read").unwrap_or_default();
    let out = child.wait_with_output().await.expect("exit");
    assert!(out.status.success(), "the relying party failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&result).unwrap_or_else(|_| panic!("not JSON: {result}"))
}

fn openid_client(app: &TestApp, client: &App, scope: &str) -> Command {
    let mut command = Command::new("node");
    command
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rp/openid_client.mjs"))
        .env("RP_MODULES", node_modules())
        .env("ISSUER", &app.address)
        .env("CLIENT_ID", &client.id)
        .env("REDIRECT_URI", CALLBACK)
        .env("SCOPE", scope);
    if let Some(secret) = &client.secret {
        command.env("CLIENT_SECRET", secret);
    }
    command
}

/// openid-client for a confidential app (Basic authentication) and for a public one (PKCE only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_in_refreshes_and_revokes() {
    if !present(&node_modules().join("openid-client"), "npm install --prefix target/rp-node openid-client@6")
    {
        return;
    }
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let confidential = register(&app, false, false);
    let result = run_rp(&app, openid_client(&app, &confidential, "openid email offline_access")).await;
    assert_eq!(result["claims"]["sub"], user.id);
    assert_eq!(result["claims"]["email"], user.email);
    assert_eq!(result["userinfo"]["email"], user.email);
    assert_eq!(result["refreshed"]["rotated"], true);
    assert_eq!(result["after_revocation"], "invalid_grant");
    assert_eq!(result["client_credentials"]["has_access_token"], true);

    let public = register(&app, true, false);
    let result = run_rp(&app, openid_client(&app, &public, "openid email")).await;
    assert_eq!(result["claims"]["aud"], public.id);
    assert_eq!(result["userinfo"]["sub"], user.id);
    assert!(result.get("refreshed").is_none(), "no offline_access, no refresh token");
}

/// authlib (PyPI) as a second relying party, confidential with client_secret_post.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_in_and_refreshes() {
    let python = python_rp();
    if !present(&python, "bash .ci/run makes target/schemathesis-venv with authlib") {
        return;
    }
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let client = register(&app, false, false);
    let mut command = Command::new(&python);
    command
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rp/authlib_rp.py"))
        .env("ISSUER", &app.address)
        .env("CLIENT_ID", &client.id)
        .env("CLIENT_SECRET", client.secret.as_deref().expect("confidential"))
        .env("REDIRECT_URI", CALLBACK)
        .env("SCOPE", "openid email offline_access");
    let result = run_rp(&app, command).await;
    assert_eq!(result["claims"]["sub"], user.id);
    assert_eq!(result["userinfo"]["email"], user.email);
    assert_eq!(result["refreshed"], true);
}
