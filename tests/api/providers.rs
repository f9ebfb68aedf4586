//! The identity providers people may sign in with (SPEC §13, the binding CLI): `portcullis
//! provider add|list|remove` run as the built binary on both backends — the secret read from
//! stdin and stored sealed, one line of JSON with the redirect URI to register at the
//! provider, and every refusal saying why.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{TestDb, backend_tests, current_backend, spawn_app};

backend_tests!(
    providers_are_added_listed_and_removed_with_their_secret_sealed,
    bad_provider_names_urls_and_secrets_are_refused_with_the_reason,
    the_admin_page_adds_and_removes_providers,
);

struct Db {
    db: TestDb,
    dir: tempfile::TempDir,
}

fn database() -> Db {
    let dir = tempfile::tempdir().expect("dir");
    let db = TestDb::new(current_backend(), dir.path());
    portcullis::db::connect(&db.url, 1, std::time::Duration::from_secs(5)).expect("migrated");
    Db { db, dir }
}

impl Db {
    fn provider(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .arg("provider")
            .args(args)
            .env("DATABASE_URL", &self.db.url)
            .env("PORTCULLIS_KEY_FILE", self.dir.path().join("key"))
            .env("PORTCULLIS_PUBLIC_URL", "https://auth.example.com")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
        child.wait_with_output().expect("exit")
    }

    fn json(&self, args: &[&str], stdin: &str) -> Value {
        let out = self.provider(args, stdin);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "provider {args:?}: {stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stdout.trim_end().lines().count(), 1, "one line: {stdout}");
        serde_json::from_str(&stdout).expect("json")
    }

    fn refused(&self, args: &[&str], stdin: &str) -> String {
        let out = self.provider(args, stdin);
        assert!(!out.status.success(), "provider {args:?} was accepted");
        assert!(out.stdout.is_empty(), "nothing on stdout when refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn rows(&self) -> Vec<portcullis::db::providers::ProviderRow> {
        let pool = portcullis::db::connect(&self.db.url, 1, std::time::Duration::from_secs(5)).expect("pool");
        portcullis::db::providers::list(&mut pool.get().expect("conn")).expect("rows")
    }
}

async fn providers_are_added_listed_and_removed_with_their_secret_sealed() {
    let db = database();
    let google = db.json(
        &[
            "add",
            "google",
            "--issuer",
            "https://accounts.google.com",
            "--client-id",
            "123.apps.googleusercontent.com",
        ],
        "a-google-secret\n",
    );
    assert_eq!(google["name"], "google");
    assert_eq!(google["kind"], "oidc");
    assert_eq!(google["issuer"], "https://accounts.google.com");
    assert_eq!(google["redirect_uri"], "https://auth.example.com/login/provider/google/callback");
    let github = db.json(&["add", "GitHub", "--github", "--client-id", "Iv1.abc"], "a-github-secret\n");
    assert_eq!(github["kind"], "github");
    assert_eq!(github["issuer"], "https://github.com");
    assert_eq!(github["api_url"], "https://api.github.com");
    let ghe = db.json(
        &[
            "add",
            "ghe",
            "--github",
            "--web-url",
            "https://ghe.example.com/",
            "--api-url",
            "https://ghe.example.com/api/v3",
            "--client-id",
            "x",
        ],
        "s\n",
    );
    assert_eq!(ghe["issuer"], "https://ghe.example.com");
    assert_eq!(ghe["api_url"], "https://ghe.example.com/api/v3");

    let listed = db.json(&["list"], "");
    let names: Vec<&str> =
        listed.as_array().expect("array").iter().map(|p| p["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["GitHub", "ghe", "google"]);
    assert!(!listed.to_string().contains("secret"), "no secret is ever listed: {listed}");

    // Stored sealed, bound to the provider's name, opened with the server's key.
    let rows = db.rows();
    let row = rows.iter().find(|r| r.name == "google").expect("stored");
    assert!(!row.secret_sealed.contains("a-google-secret"));
    let key_file =
        portcullis::keys::KeyFile::open(&db.dir.path().join("key"), &[], 0, 900, false).expect("key file");
    let sealer = portcullis::auth::upstream::providers::ProviderSealer::new(&key_file.master);
    use secrecy::ExposeSecret;
    assert_eq!(sealer.open(row).expect("opens").expose_secret(), "a-google-secret");

    assert_eq!(db.json(&["remove", "ghe"], "")["removed"], true);
    assert_eq!(db.json(&["list"], "").as_array().map(Vec::len), Some(2));
    let again = db.refused(&["remove", "ghe"], "");
    assert!(again.contains("there is no provider named"), "{again}");
}

async fn bad_provider_names_urls_and_secrets_are_refused_with_the_reason() {
    let db = database();
    let cases: [(&[&str], &str, &str); 7] = [
        (&["add", "a b", "--issuer", "https://sso.example.com", "--client-id", "x"], "s\n", "name"),
        (&["add", "../x", "--issuer", "https://sso.example.com", "--client-id", "x"], "s\n", "name"),
        (&["add", "sso", "--issuer", "http://sso.example.com", "--client-id", "x"], "s\n", "loopback"),
        (&["add", "sso", "--issuer", "https://sso.example.com/?a=1", "--client-id", "x"], "s\n", "query"),
        (&["add", "sso", "--issuer", "https://sso.example.com", "--client-id", "x"], "", "no client secret"),
        (&["add", "sso", "--client-id", "x"], "s\n", "--issuer"),
        (
            &["add", "sso", "--issuer", "https://a.example", "--github", "--client-id", "x"],
            "s\n",
            "cannot be used with",
        ),
    ];
    for (args, stdin, reason) in cases {
        let said = db.refused(args, stdin);
        assert!(said.contains(reason), "{args:?}: {said}");
    }
    db.json(&["add", "sso", "--issuer", "http://127.0.0.1:4000", "--client-id", "x"], "s\n");
    let taken = db.refused(&["add", "sso", "--issuer", "https://sso.example.com", "--client-id", "x"], "s\n");
    assert!(taken.contains("already a provider named"), "{taken}");
    assert_eq!(db.rows().len(), 1);
}

async fn the_admin_page_adds_and_removes_providers() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    assert_eq!(app.get("/admin/providers").await.status(), StatusCode::FORBIDDEN);
    let admin = app.add_user(Role::Admin);
    app.login_as(&admin).await;
    let page = app.get("/admin/providers").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("No provider is added yet"));
    let csrf = app.cookie("csrf_token").expect("csrf");
    let form = [
        ("csrf_token", csrf.as_str()),
        ("name", "corp-sso"),
        ("kind", "oidc"),
        ("issuer", "https://sso.example.com/realms/corp"),
        ("client_id", "portcullis"),
        ("client_secret", "a-typed-secret"),
    ];
    let res = app.post_form("/admin/providers", &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let html = app.get("/admin/providers?done=added").await.text().await.expect("html");
    assert!(html.contains("corp-sso") && html.contains("/login/provider/corp-sso/callback"), "{html}");
    assert!(!html.contains("a-typed-secret"), "the secret is never shown");
    let github = [
        ("csrf_token", csrf.as_str()),
        ("name", "github"),
        ("kind", "github"),
        ("client_id", "Iv1.x"),
        ("client_secret", "s"),
    ];
    assert_eq!(app.post_form("/admin/providers", &github).await.status(), StatusCode::SEE_OTHER);

    let bad = [
        ("csrf_token", csrf.as_str()),
        ("name", "a b"),
        ("kind", "oidc"),
        ("issuer", "http://sso.example.com"),
        ("client_id", "x"),
        ("client_secret", "s"),
    ];
    let res = app.post_form("/admin/providers", &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.expect("html");
    assert!(
        html.contains("name:") && !html.contains(r#"value="s""#),
        "the error, and no secret echoed: {html}"
    );
    let forged = app.post_form("/admin/providers", &form[1..]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "no CSRF token, nothing added");

    let unconfirmed = app.post_form("/admin/providers/corp-sso/delete", &[("csrf_token", &csrf)]).await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    let removed =
        app.post_form("/admin/providers/corp-sso/delete", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let html = app.get("/admin/providers").await.text().await.expect("html");
    assert!(!html.contains("corp-sso") && html.contains("github"));
    let gone =
        app.post_form("/admin/providers/nobody/delete", &[("csrf_token", &csrf), ("confirm", "yes")]).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
