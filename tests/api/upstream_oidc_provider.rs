//! panva's `oidc-provider` (npm; a certified OpenID Provider) as the upstream (SPEC §13, issue
//! 25), started here on loopback from `tests/rp/oidc_provider.mjs`: "Sign in with op" goes
//! through its own sign-in and consent pages and makes a verified account; the same identity
//! finds it again; an address the provider does not vouch for makes none. `.ci/run` installs it
//! under `target/rp-node`; without it a local run skips with the reason (SQLite).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use portcullis_testkit::{Backend, free_port};
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::Value;

use crate::helpers::{TestApp, client_with, provider_add, spawn_app_on};

fn node_modules() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/rp-node/node_modules"))
}

struct Upstream {
    child: Child,
    base: String,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_upstream(redirect_uri: &str) -> Upstream {
    let port = free_port();
    let mut child = Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rp/oidc_provider.mjs"))
        .env("RP_MODULES", node_modules())
        .env("PORT", port.to_string())
        .env("CLIENT_ID", "portcullis")
        .env("CLIENT_SECRET", "a-secret-of-the-upstream")
        .env("REDIRECT_URI", redirect_uri)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).expect("ready");
    assert_eq!(line.trim(), "ready", "oidc-provider did not start");
    // Keep reading what it prints: a closed pipe would end it at its next notice.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Upstream { child, base: format!("http://localhost:{port}") }
}

/// The value of `name="…"`'s attribute `attr` in the first tag that has it.
fn attribute(html: &str, marker: &str, attr: &str) -> Option<String> {
    let tag = html.split(marker).nth(1)?;
    let tag = tag.split('>').next()?;
    let value = tag.split(&format!("{attr}=\"")).nth(1)?.split('"').next()?;
    Some(value.replace("&amp;", "&"))
}

/// From "Sign in with op" to Portcullis's answer to the callback, through the provider's own
/// pages: its sign-in form (as `login`) and its consent form.
async fn sign_in_through(
    down: &TestApp,
    up: &Upstream,
    browser: &reqwest::Client,
    login: &str,
) -> reqwest::Response {
    let mut url = down.url("/login/provider/op?next=%2Faccount");
    for _ in 0..20 {
        let res = browser.get(&url).send().await.expect("step");
        if res.status().is_redirection() {
            let next = res.headers()["location"].to_str().expect("ascii").to_owned();
            url = if next.starts_with('/') { format!("{}{next}", up.base) } else { next };
            if url.starts_with(&down.url("/login/provider/op/callback")) {
                return browser.get(&url).send().await.expect("callback");
            }
            continue;
        }
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let html = res.text().await.expect("html");
        let action = attribute(&html, "<form", "action").expect("a form on the provider's page");
        let mut form: Vec<(String, String)> = Vec::new();
        if html.contains("name=\"login\"") {
            form.push(("login".into(), login.into()));
            form.push(("password".into(), "any".into()));
        }
        for chunk in html.split("<input").skip(1) {
            if chunk.contains("type=\"hidden\"") {
                let name =
                    chunk.split("name=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
                let value =
                    chunk.split("value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default();
                form.push((name.into(), value.into()));
            }
        }
        let target = if action.starts_with('/') { format!("{}{action}", up.base) } else { action };
        let res = browser.post(&target).form(&form).send().await.expect("submit");
        assert!(res.status().is_redirection(), "the provider's form answered {}", res.status());
        let next = res.headers()["location"].to_str().expect("ascii").to_owned();
        url = if next.starts_with('/') { format!("{}{next}", up.base) } else { next };
        if url.starts_with(&down.url("/login/provider/op/callback")) {
            return browser.get(&url).send().await.expect("callback");
        }
    }
    panic!("never came back from the provider");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_provider_signs_people_in_and_vouches_for_addresses() {
    if !node_modules().join("oidc-provider").exists() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but oidc-provider is missing");
        eprintln!("skipping: npm install --prefix target/rp-node oidc-provider@9");
        return;
    }
    let down = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let up = start_upstream(&format!("{}/login/provider/op/callback", down.address));
    provider_add(
        &down,
        &["op", "--issuer", &up.base, "--client-id", "portcullis"],
        "a-secret-of-the-upstream",
    );

    let browser = client_with(Arc::new(Jar::default()));
    let res = sign_in_through(&down, &up, &browser, "alice").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap_or_default());
    assert_eq!(res.headers()["location"], "/account");
    let me: Value = browser.get(down.url("/api/me")).send().await.expect("me").json().await.expect("json");
    assert_eq!(me["email"], "alice@example.org");
    assert_eq!(me["email_verified"], true);

    let again = client_with(Arc::new(Jar::default()));
    let res = sign_in_through(&down, &up, &again, "alice").await;
    assert_eq!(res.headers()["location"], "/account");
    let me2: Value = again.get(down.url("/api/me")).send().await.expect("me").json().await.expect("json");
    assert_eq!(me2["id"], me["id"], "the link (issuer + sub) finds the same account");

    let other = client_with(Arc::new(Jar::default()));
    let res = sign_in_through(&down, &up, &other, "unverified-bob").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("html").contains("has not verified"));
}
