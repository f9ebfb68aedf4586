//! Forward authentication (`GET /api/auth/verify`, SPEC §4): directly, and behind a real nginx
//! running the config `docs/deployment.md` documents, in front of an app that echoes the
//! headers it receives.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portcullis::config::{Origins, PublicUrl};
use portcullis::domain::Role;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, backend_tests, client_with, set_cookie, set_cookies, spawn_app_with};
use portcullis_testkit::free_port;

backend_tests!(
    forward_auth_names_a_caller_signed_in_by_cookie_or_bearer,
    forward_auth_refreshes_in_place_and_hands_out_both_cookies_as_headers,
    forward_auth_applies_the_origin_rule_to_the_original_request,
    an_absolute_next_on_a_listed_app_origin_is_followed_after_sign_in,
    forward_auth_says_whether_the_address_is_verified,
);

/// With open registration anyone can sign up as `ceo@corp.example` without owning the mailbox:
/// forward auth says the address is not confirmed, until its link is followed.
async fn forward_auth_says_whether_the_address_is_verified() {
    let app = spawn_app_with(|_| {}).await;
    let body = serde_json::json!({"email": "ceo@corp.example", "password": crate::helpers::PASSWORD});
    assert_eq!(app.post_json("/api/auth/register", &body).await.status(), StatusCode::CREATED);
    let res = verify(&app, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-portcullis-email"], "ceo@corp.example");
    assert_eq!(res.headers()["x-portcullis-email-verified"], "false");
    let user = app.add_user(Role::User);
    let bearer = app.bearer_for(&user).await;
    let res =
        reqwest::Client::new().get(app.url("/api/auth/verify")).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(res.headers()["x-portcullis-email-verified"], "true");
}

async fn verify(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.client.get(app.url("/api/auth/verify"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

async fn forward_auth_names_a_caller_signed_in_by_cookie_or_bearer() {
    let app = spawn_app_with(|_| {}).await;
    let anonymous = verify(&app, &[]).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["cache-control"], "no-store");
    assert!(anonymous.headers().contains_key("www-authenticate"));

    let user = app.add_user(Role::Admin);
    app.login_as(&user).await;
    let res = verify(&app, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.headers()["x-portcullis-user-id"], user.id.as_str());
    assert_eq!(res.headers()["x-portcullis-email"], user.email.as_str());
    assert_eq!(res.headers()["x-portcullis-email-verified"], "true");
    assert_eq!(res.headers()["x-portcullis-role"], "admin");
    assert!(set_cookies(res.headers()).is_empty(), "nothing to refresh");

    let bearer = app.bearer_for(&user).await;
    let res =
        reqwest::Client::new().get(app.url("/api/auth/verify")).bearer_auth(&bearer).send().await.unwrap();
    assert_eq!(res.headers()["x-portcullis-user-id"], user.id.as_str());
    let forged =
        reqwest::Client::new().get(app.url("/api/auth/verify")).bearer_auth("x.y.z").send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

/// The Cookie header a browser holding only `names` of the jar would send.
fn only_cookies(app: &TestApp, names: &[&str]) -> String {
    names.iter().filter_map(|n| app.cookie(n).map(|v| format!("{n}={v}"))).collect::<Vec<_>>().join("; ")
}

async fn forward_auth_refreshes_in_place_and_hands_out_both_cookies_as_headers() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let cookie = only_cookies(&app, &["refresh_token"]);
    let bare = reqwest::Client::new();
    let res = bare.get(app.url("/api/auth/verify")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-portcullis-user-id"], user.id.as_str());
    let set = set_cookies(res.headers());
    let access = set_cookie(&set, "access_token").expect("a new access cookie");
    let refresh = set_cookie(&set, "refresh_token").expect("a new refresh cookie");
    assert_eq!(res.headers()["x-portcullis-set-cookie-access"], access.as_str());
    assert_eq!(res.headers()["x-portcullis-set-cookie-refresh"], refresh.as_str());
    assert!(access.contains("HttpOnly") && access.contains("Path=/"), "{access}");
    let new_access = access.split(';').next().unwrap();
    let me = bare.get(app.url("/api/me")).header("cookie", new_access).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK, "the refreshed access cookie works");

    // For proxies that cannot pass cookies on: no refresh, a 401, and the sign-in page
    // refreshes in place and sends the browser back where it was going.
    let cookie = refresh.split(';').next().unwrap();
    let res =
        bare.get(app.url("/api/auth/verify?refresh=never")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookies(res.headers()).is_empty(), "nothing rotated");
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res =
        no_redirects.get(app.url("/login?next=/reports")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/reports");
    assert!(set_cookie(&set_cookies(res.headers()), "access_token").is_some());
}

async fn forward_auth_applies_the_origin_rule_to_the_original_request() {
    let app = spawn_app_with(|_| {}).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let own = app.address.clone();
    for (method_header, method, origin, site, expected) in [
        ("x-original-method", "POST", "http://evil.example", "", StatusCode::FORBIDDEN),
        ("x-forwarded-method", "DELETE", "", "cross-site", StatusCode::FORBIDDEN),
        ("x-original-method", "POST", own.as_str(), "same-origin", StatusCode::OK),
        ("x-original-method", "GET", "http://evil.example", "cross-site", StatusCode::OK),
    ] {
        let mut headers = vec![(method_header, method)];
        if !origin.is_empty() {
            headers.push(("origin", origin));
        }
        if !site.is_empty() {
            headers.push(("sec-fetch-site", site));
        }
        assert_eq!(verify(&app, &headers).await.status(), expected, "{method} from {origin:?} {site:?}");
    }
    // A forged request with only the refresh cookie is refused before anything rotates.
    let cookie = only_cookies(&app, &["refresh_token"]);
    let res = reqwest::Client::new()
        .get(app.url("/api/auth/verify"))
        .header("cookie", &cookie)
        .header("x-original-method", "POST")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookies(res.headers()).is_empty());
    // A Bearer token (no cookies) is no cross-site risk.
    let bearer = app.bearer_for(&user).await;
    let res = reqwest::Client::new()
        .get(app.url("/api/auth/verify"))
        .bearer_auth(&bearer)
        .header("x-original-method", "POST")
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn an_absolute_next_on_a_listed_app_origin_is_followed_after_sign_in() {
    let app = spawn_app_with(|s| s.cors_origins = Origins::parse("http://127.0.0.1:3999").unwrap()).await;
    let user = app.add_user(Role::User);
    for (next, expected) in [
        ("http://127.0.0.1:3999/app?x=1", "http://127.0.0.1:3999/app?x=1"),
        ("http://127.0.0.1:4000/app", "/account"),
        ("http://127.0.0.1:3999@evil.example/", "/account"),
    ] {
        let csrf = app.csrf_token().await;
        let form = [
            ("email", user.email.as_str()),
            ("password", &user.password),
            ("csrf_token", &csrf),
            ("next", next),
        ];
        let res = app.post_form("/login", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], expected, "next={next}");
    }
    // The app's origin passes the Origin check on /api, and only there.
    let listed = [("origin", "http://127.0.0.1:3999"), ("sec-fetch-site", "same-site")];
    let mut api = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&serde_json::json!({"email": user.email, "password": user.password}));
    let mut page = app.client.post(app.url("/login")).form(&[("email", "x")]);
    for (k, v) in listed {
        api = api.header(k, v);
        page = page.header(k, v);
    }
    assert_eq!(api.send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(page.send().await.unwrap().status(), StatusCode::FORBIDDEN);
}

/// nginx started with the documented server block, killed when dropped.
struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const NGINX: &str = "/usr/sbin/nginx";

/// The `nginx` block of `docs/deployment.md` after the forward-auth marker, pointed at these ports.
fn documented_server_block(listen: u16, portcullis: u16, app: u16) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/deployment.md")).unwrap();
    let after = doc.split("<!-- forward-auth-nginx -->").nth(1).expect("the marker in docs/deployment.md");
    let block = after.split("```nginx").nth(1).unwrap().split("```").next().unwrap();
    block
        .replace("listen 80;", &format!("listen 127.0.0.1:{listen};"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{portcullis}"))
        .replace("127.0.0.1:3000", &format!("127.0.0.1:{app}"))
}

fn start_nginx(listen: u16, portcullis: u16, app: u16) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{}\n}}\n",
        documented_server_block(listen, portcullis, app)
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(NGINX)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx starts");
    let nginx = Nginx { child, _dir: dir };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", listen)).is_ok() {
            return nginx;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(nginx._dir.path().join("error.log")).unwrap_or_default();
    panic!("nginx did not listen on {listen}: {log}");
}

/// An upstream app that answers every request with the request's head as its body.
async fn start_echo_app() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                // Header names lowercased, values as sent.
                let text: String = String::from_utf8_lossy(&head)
                    .split("\r\n")
                    .map(|line| match line.split_once(':') {
                        Some((name, value)) => format!("{}:{value}\r\n", name.to_ascii_lowercase()),
                        None => format!("{line}\r\n"),
                    })
                    .collect();
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                let _ = stream.read_exact(&mut body).await;
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    port
}

fn nginx_available() -> bool {
    let ok = std::path::Path::new(NGINX).exists();
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but nginx is missing");
        eprintln!("skipping: nginx is not installed (apt-get install nginx-light)");
    }
    ok
}

fn cookie_pair(headers: &HeaderMap, name: &str) -> String {
    let set = set_cookies(headers);
    set_cookie(&set, name)
        .unwrap_or_else(|| panic!("no {name} in {set:?}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_forward_auth_guards_an_app_and_passes_refreshed_cookies_to_the_browser() {
    if !nginx_available() {
        return;
    }
    let listen = free_port();
    let front = format!("http://127.0.0.1:{listen}");
    let app = spawn_app_with(|s| s.public_url = Some(PublicUrl::parse(&front).unwrap())).await;
    let portcullis = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let _nginx = start_nginx(listen, portcullis, start_echo_app().await);
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let browser = client_with(jar.clone());

    let res = browser.get(format!("{front}/reports/q3")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "not signed in: to the sign-in page");
    assert_eq!(res.headers()["location"], format!("{front}/login?next=/reports/q3").as_str());

    let user = app.add_user(Role::Admin);
    let page = browser.get(format!("{front}/login?next=/reports/q3")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = cookie_pair(page.headers(), "csrf_token").split_once('=').unwrap().1.to_owned();
    let form = [
        ("email", user.email.as_str()),
        ("password", &user.password),
        ("csrf_token", &csrf),
        ("next", "/reports/q3"),
    ];
    let res = browser.post(format!("{front}/login")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/reports/q3");
    let refresh = cookie_pair(res.headers(), "refresh_token");

    let res = browser
        .get(format!("{front}/reports/q3"))
        .header("x-portcullis-email", "spoofed@evil.example")
        .header("x-portcullis-email-verified", "spoofed-verified")
        .header("x-portcullis-role", "admin-by-claim")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let seen = res.text().await.unwrap();
    assert!(seen.contains(&format!("x-portcullis-user-id: {}", user.id)), "{seen}");
    assert!(seen.contains(&format!("x-portcullis-email: {}", user.email)), "{seen}");
    assert!(seen.contains("x-portcullis-role: admin\r\n"), "{seen}");
    assert!(seen.contains("x-portcullis-email-verified: true\r\n"), "{seen}");
    assert!(
        !seen.contains("spoofed") && !seen.contains("admin-by-claim"),
        "client headers reached the app: {seen}"
    );

    // The access token ran out: only the refresh cookie comes along. Both new cookies must
    // reach the browser through nginx, and work.
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = bare.get(format!("{front}/reports/q3")).header("cookie", &refresh).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (access, refreshed) =
        (cookie_pair(res.headers(), "access_token"), cookie_pair(res.headers(), "refresh_token"));
    assert_ne!(refreshed, refresh);
    for cookie in [&access, &refreshed] {
        let res =
            bare.get(format!("{front}/reports/q3")).header("cookie", cookie.as_str()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{cookie} does not sign in");
    }

    // A cross-site form aimed at the app is stopped at the proxy; the app's own is not.
    let forged = browser
        .post(format!("{front}/reports/q3"))
        .header("origin", "http://evil.example")
        .form(&[("a", "1")]);
    assert_eq!(forged.send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let own = browser.post(format!("{front}/reports/q3")).header("origin", &front).form(&[("a", "1")]);
    assert_eq!(own.send().await.unwrap().status(), StatusCode::OK);

    // A script with a Bearer token.
    let bearer = app.bearer_for(&user).await;
    let res = bare.get(format!("{front}/reports/q3")).bearer_auth(&bearer).send().await.unwrap();
    assert!(res.text().await.unwrap().contains(&format!("x-portcullis-user-id: {}", user.id)));
}
