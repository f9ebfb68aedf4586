//! Registered apps (SPEC §11, the binding CLI): `portcullis client add|list|remove|rotate-secret`
//! run as the built binary on both backends — one line of JSON each, a secret of 256 bits shown
//! once and stored only as its hash, redirect URIs checked and kept exactly, and every refusal
//! saying why; the administrators' page, `/admin/clients`, and its JSON twin,
//! `/api/admin/clients`.

use std::process::{Command, Output};

use portcullis::auth::provider::clients;
use serde_json::Value;

use portcullis::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestDb, backend_tests, current_backend, error_code, spawn_app};

backend_tests!(
    the_admin_page_registers_an_app_and_shows_its_secret_once,
    the_admin_api_registers_edits_rotates_and_removes_apps,
    the_client_commands_answer_in_one_line_of_json_and_show_a_secret_once,
    a_rotated_secret_replaces_the_old_one_at_once,
    bad_redirect_uris_and_algorithms_are_refused_with_the_reason,
);

struct Db {
    db: TestDb,
    _dir: tempfile::TempDir,
}

fn database() -> Db {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::new(current_backend(), dir.path());
    // The schema exists before the first command, as on a server that has started once.
    portcullis::db::connect(&db.url, 1, std::time::Duration::from_secs(5)).expect("migrated");
    Db { db, _dir: dir }
}

impl Db {
    fn client(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .arg("client")
            .args(args)
            .env("DATABASE_URL", &self.db.url)
            .env("RUST_LOG", "warn")
            .output()
            .expect("the binary runs")
    }

    /// Runs a command that must succeed; its stdout as JSON (it must be one line).
    fn json(&self, args: &[&str]) -> Value {
        let out = self.client(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "client {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stdout.trim_end().lines().count(), 1, "one line: {stdout}");
        serde_json::from_str(&stdout).expect("json")
    }

    /// Runs a command that must fail; what it printed.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.client(args);
        assert!(!out.status.success(), "client {args:?} was accepted");
        assert!(out.stdout.is_empty(), "nothing on stdout when refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn authenticates(&self, id: &str, secret: &str) -> bool {
        let pool = portcullis::db::connect(&self.db.url, 1, std::time::Duration::from_secs(5)).expect("pool");
        let mut conn = pool.get().expect("conn");
        clients::authenticate(&mut conn, id, secret).expect("query").is_some()
    }

    fn stored_hashes(&self) -> String {
        let pool = portcullis::db::connect(&self.db.url, 1, std::time::Duration::from_secs(5)).expect("pool");
        let mut conn = pool.get().expect("conn");
        format!("{:?}", portcullis::db::clients::list(&mut conn).expect("rows"))
    }
}

const GRAFANA: &str = "https://grafana.example.com/login/generic_oauth";

async fn the_client_commands_answer_in_one_line_of_json_and_show_a_secret_once() {
    let db = database();
    let added = db.json(&[
        "add",
        "Grafana",
        "--redirect-uri",
        GRAFANA,
        "--post-logout-redirect-uri",
        "https://grafana.example.com/login",
    ]);
    let id = added["client_id"].as_str().expect("an id").to_owned();
    let secret = added["client_secret"].as_str().expect("a secret").to_owned();
    assert!(id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()), "128 bits in hex: {id}");
    assert_eq!(secret.len(), 43, "256 bits in base64url");
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'), "URL-safe: {secret}");
    assert!(!db.stored_hashes().contains(&secret), "only the secret's hash is stored");
    assert!(db.authenticates(&id, &secret));
    assert!(!db.authenticates(&id, "not the secret"));

    let spa = db.json(&[
        "add",
        "An SPA",
        "--public",
        "--skip-consent",
        "--redirect-uri",
        "http://127.0.0.1:5173/cb",
    ]);
    assert!(spa.get("client_secret").is_none(), "a public client has no secret: {spa}");
    let spa_id = spa["client_id"].as_str().expect("an id").to_owned();
    assert!(!db.authenticates(&spa_id, ""), "a public client never authenticates by secret");

    let list = db.json(&["list"]);
    let list = list.as_array().expect("an array");
    assert_eq!(list.len(), 2);
    let list: Vec<&Value> = [&id, &spa_id]
        .iter()
        .map(|i| list.iter().find(|c| c["client_id"] == i.as_str()).expect("listed"))
        .collect();
    assert_eq!(list[0]["name"], "Grafana");
    assert_eq!(list[0]["public"], false);
    assert_eq!(list[0]["redirect_uris"], serde_json::json!([GRAFANA]));
    assert_eq!(
        list[0]["post_logout_redirect_uris"],
        serde_json::json!(["https://grafana.example.com/login"])
    );
    assert_eq!(list[0]["id_token_alg"], "RS256", "RS256 unless asked otherwise");
    assert_eq!(list[1]["public"], true);
    assert_eq!(list[1]["skip_consent"], true);
    assert!(!serde_json::to_string(&list).unwrap().contains(&secret), "a list never shows a secret");

    assert_eq!(db.json(&["remove", &spa_id])["removed"], true);
    assert_eq!(db.json(&["list"]).as_array().map(Vec::len), Some(1));
    let again = db.refused(&["remove", &spa_id]);
    assert!(again.contains("there is no client with the id"), "{again}");
}

async fn a_rotated_secret_replaces_the_old_one_at_once() {
    let db = database();
    let added = db.json(&[
        "add",
        "Gitea",
        "--redirect-uri",
        "https://git.example.com/user/oauth2/portcullis/callback",
    ]);
    let id = added["client_id"].as_str().expect("id");
    let old = added["client_secret"].as_str().expect("secret");
    let rotated = db.json(&["rotate-secret", id]);
    let new = rotated["client_secret"].as_str().expect("a new secret");
    assert_eq!(rotated["client_id"], id);
    assert_ne!(new, old);
    assert!(db.authenticates(id, new));
    assert!(!db.authenticates(id, old), "the old secret stops working at once");

    let public = db.json(&["add", "Mobile", "--public", "--redirect-uri", "http://localhost/cb"]);
    let public_id = public["client_id"].as_str().expect("id");
    let refused = db.refused(&["rotate-secret", public_id]);
    assert!(refused.contains("public client"), "{refused}");
    let unknown = db.refused(&["rotate-secret", "no-such-client"]);
    assert!(unknown.contains("there is no client with the id"), "{unknown}");
}

async fn bad_redirect_uris_and_algorithms_are_refused_with_the_reason() {
    let db = database();
    let cases = [
        ("http://grafana.example.com/cb", "http:// on a host other than a loopback one"),
        ("https://grafana.example.com/cb#x", "fragment"),
        ("/login/generic_oauth", "not an absolute URL"),
        ("https://me:pw@grafana.example.com/cb", "user name or password"),
        ("javascript:alert(1)", "must be an https:// URL"),
    ];
    for (uri, reason) in cases {
        let said = db.refused(&["add", "App", "--redirect-uri", uri]);
        assert!(said.contains(reason), "{uri}: {said}");
    }
    let said = db.refused(&[
        "add",
        "App",
        "--redirect-uri",
        GRAFANA,
        "--post-logout-redirect-uri",
        "http://evil.example/",
    ]);
    assert!(said.contains("post-logout redirect URI"), "{said}");
    let said = db.refused(&["add", "App"]);
    assert!(said.contains("--redirect-uri"), "{said}");
    let said = db.refused(&["add", "App", "--redirect-uri", GRAFANA, "--id-token-alg", "HS256"]);
    assert!(said.contains("--id-token-alg"), "{said}");
    let said = db.refused(&["add", "  ", "--redirect-uri", GRAFANA]);
    assert!(said.contains("name"), "{said}");
    assert_eq!(db.json(&["list"]), serde_json::json!([]), "nothing was registered");
}

async fn the_admin_api_registers_edits_rotates_and_removes_apps() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let token = app.bearer_for(&admin).await;
    let user = app.add_user(Role::User);
    let theirs = app.bearer_for(&user).await;
    let body = json!({"name": "Grafana", "redirect_uris": [GRAFANA]});
    let refused = app.bearer_call(&theirs, Method::POST, "/api/admin/clients", Some(body.clone())).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "administrators only");
    let listed = app.bearer_call(&theirs, Method::GET, "/api/admin/clients", None).await;
    assert_eq!(listed.status(), StatusCode::FORBIDDEN);

    let made = app.bearer_call(&token, Method::POST, "/api/admin/clients", Some(body)).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let made: Value = made.json().await.unwrap();
    let id = made["client_id"].as_str().expect("an id").to_owned();
    let secret = made["client_secret"].as_str().expect("a secret").to_owned();
    {
        let mut conn = app.pool.get().unwrap();
        assert!(clients::authenticate(&mut conn, &id, &secret).unwrap().is_some());
    }
    let list: Value =
        app.bearer_call(&token, Method::GET, "/api/admin/clients", None).await.json().await.unwrap();
    assert_eq!(list[0]["client_id"], id.as_str());
    assert!(!list.to_string().contains(&secret), "never listed");

    let bad = json!({"name": "X", "redirect_uris": ["http://evil.example/cb"]});
    let res = app.bearer_call(&token, Method::POST, "/api/admin/clients", Some(bad)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said: Value = res.json().await.unwrap();
    assert_eq!(said["error"], "invalid_client_metadata");
    assert!(said["message"].as_str().unwrap().contains("loopback"), "{said}");
    let alg = json!({"name": "X", "redirect_uris": [GRAFANA], "id_token_alg": "HS256"});
    let res = app.bearer_call(&token, Method::POST, "/api/admin/clients", Some(alg)).await;
    assert_eq!(error_code(res).await, "invalid_client_metadata");

    let uris = format!("/api/admin/clients/{id}/redirect-uris");
    let new = "https://grafana.example.com/other/callback";
    let res = app.bearer_call(&token, Method::PUT, &uris, Some(json!({"redirect_uris": [new]}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let list: Value =
        app.bearer_call(&token, Method::GET, "/api/admin/clients", None).await.json().await.unwrap();
    assert_eq!(list[0]["redirect_uris"], json!([new]), "replaced as a whole");
    let res = app.bearer_call(&token, Method::PUT, &uris, Some(json!({"redirect_uris": []}))).await;
    assert_eq!(error_code(res).await, "invalid_client_metadata", "never without a redirect URI");

    let rotated =
        app.bearer_call(&token, Method::POST, &format!("/api/admin/clients/{id}/secret"), None).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let new_secret = rotated["client_secret"].as_str().expect("a new secret");
    {
        let mut conn = app.pool.get().unwrap();
        assert!(clients::authenticate(&mut conn, &id, new_secret).unwrap().is_some());
        assert!(
            clients::authenticate(&mut conn, &id, &secret).unwrap().is_none(),
            "the old one ends at once"
        );
    }
    let public = json!({"name": "SPA", "redirect_uris": ["http://localhost:5173/cb"], "public": true});
    let public: Value =
        app.bearer_call(&token, Method::POST, "/api/admin/clients", Some(public)).await.json().await.unwrap();
    assert!(public.get("client_secret").is_none(), "{public}");
    let path = format!("/api/admin/clients/{}/secret", public["client_id"].as_str().unwrap());
    let res = app.bearer_call(&token, Method::POST, &path, None).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "public_client");

    let gone = app.bearer_call(&token, Method::DELETE, &format!("/api/admin/clients/{id}"), None).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let again = app.bearer_call(&token, Method::DELETE, &format!("/api/admin/clients/{id}"), None).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let res = app.bearer_call(&token, Method::POST, &format!("/api/admin/clients/{id}/secret"), None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// The secret on a page that answered a registration or a rotation.
fn secret_on(page: &str) -> Option<String> {
    let start = page.find("id=\"client-secret\">")? + "id=\"client-secret\">".len();
    Some(page[start..].split('<').next()?.to_owned())
}

async fn the_admin_page_registers_an_app_and_shows_its_secret_once() {
    let app = spawn_app().await;
    assert_eq!(app.get("/admin/clients").await.status(), StatusCode::SEE_OTHER, "signed out: to sign in");
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    assert_eq!(app.get("/admin/clients").await.status(), StatusCode::FORBIDDEN, "administrators only");
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    app.login_as(&admin).await;
    let page = app.get("/admin/clients").await.text().await.unwrap();
    assert!(page.contains("No app is registered yet") && page.contains("Register an app"), "{page}");
    let csrf = app.cookie("csrf_token").unwrap();

    let form = [("name", "Grafana"), ("redirect_uris", GRAFANA)];
    assert_eq!(app.post_form("/admin/clients", &form).await.status(), StatusCode::FORBIDDEN, "CSRF applies");
    let bad = [
        ("csrf_token", csrf.as_str()),
        ("name", "Grafana"),
        ("redirect_uris", "http://grafana.example.com/cb"),
    ];
    let res = app.post_form("/admin/clients", &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("loopback") && page.contains("http://grafana.example.com/cb"),
        "the reason, and what was typed"
    );

    let two_lines = format!("{GRAFANA}\r\n\r\nhttps://grafana.example.com/second\r\n");
    let good = [("csrf_token", csrf.as_str()), ("name", "Grafana"), ("redirect_uris", two_lines.as_str())];
    let res = app.post_form("/admin/clients", &good).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let page = res.text().await.unwrap();
    let secret = secret_on(&page).expect("the secret, shown once");
    let id =
        page.split("id=\"client-id\">").nth(1).and_then(|r| r.split('<').next()).expect("the id").to_owned();
    {
        let mut conn = app.pool.get().unwrap();
        assert!(clients::authenticate(&mut conn, &id, &secret).unwrap().is_some());
        let shown = clients::get(&mut conn, &id).unwrap();
        assert_eq!(shown.redirect_uris, [GRAFANA, "https://grafana.example.com/second"], "one per line");
    }
    let list = app.get("/admin/clients").await.text().await.unwrap();
    assert!(list.contains("Grafana") && !list.contains(&secret), "listed, the secret never again");
    let one = app.get(&format!("/admin/clients/{id}")).await.text().await.unwrap();
    assert!(one.contains(&id) && !one.contains(&secret));

    let uris = format!("/admin/clients/{id}/redirect-uris");
    let res =
        app.post_form(&uris, &[("csrf_token", &csrf), ("redirect_uris", "https://x.example/#frag")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("fragment"));
    let res = app.post_form(&uris, &[("csrf_token", &csrf), ("redirect_uris", GRAFANA)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], format!("/admin/clients/{id}?done=uris").as_str());

    let res = app.post_form(&format!("/admin/clients/{id}/secret"), &[("csrf_token", &csrf)]).await;
    let new = secret_on(&res.text().await.unwrap()).expect("the new secret");
    {
        let mut conn = app.pool.get().unwrap();
        assert!(clients::authenticate(&mut conn, &id, &new).unwrap().is_some());
        assert!(clients::authenticate(&mut conn, &id, &secret).unwrap().is_none());
    }
    let remove = format!("/admin/clients/{id}/delete");
    let res = app.post_form(&remove, &[("csrf_token", &csrf)]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "not without the box ticked");
    let res = app.post_form(&remove, &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/admin/clients/{id}")).await.status(), StatusCode::NOT_FOUND);
}

/// The same in a real browser: the form, the secret shown once, the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_an_admin_registers_an_app() {
    let Some(browser) = portcullis_testkit::Browser::start().await else { return };
    let app = crate::helpers::spawn_app_on(crate::helpers::Backend::Sqlite, |_| {}).await;
    let admin = app.add_user(Role::Admin);
    browser.sign_in(&app.address, &admin.email, &admin.password, false).await;
    browser.goto(&app.url("/admin/users")).await;
    browser.click("nav.subnav a[href='/admin/clients']").await;
    browser.wait_for_text("Register an app").await;
    browser.fill("#name", "Grafana").await;
    browser.fill("#redirect_uris", GRAFANA).await;
    browser.click("form[action='/admin/clients'] button[type=submit]").await;
    let text = browser.wait_for_text("Copy the secret now").await;
    assert!(text.contains("It is not shown again"), "{text}");
    let secret = browser.run("return document.querySelector('#client-secret').textContent;").await;
    let id = browser.run("return document.querySelector('#client-id').textContent;").await;
    {
        let mut conn = app.pool.get().unwrap();
        let (id, secret) = (id.as_str().unwrap(), secret.as_str().unwrap());
        assert!(clients::authenticate(&mut conn, id, secret).unwrap().is_some());
    }
    browser.click("a[href='/admin/clients']").await;
    let list = browser.wait_for_text("Confidential").await;
    assert!(list.contains("Grafana") && list.contains(GRAFANA), "{list}");
    browser.quit().await;
}
