use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/api/me", "/healthz", "/nope"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'",
            "{path}"
        );
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(!h.contains_key("server"), "{path} announces its server");
    }
    assert_eq!(app.get("/login").await.headers()["cache-control"], "no-store");
}

async fn https_public_url_turns_on_hsts() {
    let app = spawn_app_with(|s| {
        s.public_url = Some(portcullis::config::PublicUrl::parse("https://auth.example.com").unwrap());
    })
    .await;
    let res = app.get("/healthz").await;
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
}

/// Every file under `static/` is compiled in and served as it is on disk, with an `ETag` a
/// conditional request matches; anything else under `/static` is a 404.
async fn static_assets_are_served() {
    let app = spawn_app().await;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(entry.path());
            }
        }
    }
    assert!(!files.is_empty());
    for file in files {
        let path = file.strip_prefix(&root).unwrap().to_str().unwrap().to_owned();
        let res = app.get(&format!("/static/{path}")).await;
        assert_eq!(res.status(), StatusCode::OK, "{path} is not embedded (routes/assets.rs)");
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
        if path.ends_with(".css") {
            assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
        }
        assert_eq!(res.bytes().await.unwrap().as_ref(), std::fs::read(&file).unwrap(), "{path}");
        let again = app
            .client
            .get(app.url(&format!("/static/{path}")))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    }
    assert_eq!(app.get("/static/css/nothing.css").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), StatusCode::NOT_FOUND);
}

crate::helpers::backend_tests!(
    healthz_and_readyz_answer_200,
    every_response_carries_the_security_headers,
    https_public_url_turns_on_hsts,
    static_assets_are_served,
);

/// The binary needs no files beside it: from an empty directory, with settings from the
/// environment only, it serves its pages and its stylesheet (templates and static files are
/// compiled in), creating its database and key file there.
#[test]
fn the_binary_runs_from_an_empty_directory_with_only_environment_variables() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .current_dir(dir.path())
        .env_clear()
        .env("PORTCULLIS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server logs its address").unwrap();
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    let get = |path: &str| http_get(base.trim_start_matches("http://"), path);
    let css = get("/static/css/app.css");
    let login = get("/login");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(css.0, 200);
    assert!(css.1.contains("--accent"), "the stylesheet");
    assert_eq!(login.0, 200);
    assert!(login.1.contains("<form") && login.1.contains("app.css"), "the page, from the compiled template");
    assert!(dir.path().join("portcullis.db").exists() && dir.path().join("portcullis.key").exists());
}

/// A plain HTTP/1.0 GET from a synchronous test: (status, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}
