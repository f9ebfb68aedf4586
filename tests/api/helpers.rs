//! spawn_app() starts the real server on port 0 with a fresh database; TestApp drives it
//! over HTTP with a cookie-keeping, non-redirecting client.

use std::sync::Arc;
use std::time::Duration;

use diesel::Connection;
use diesel::RunQueryDsl;
use diesel::pg::PgConnection;
use portcullis::auth::account::register;
use portcullis::auth::password;
use portcullis::config::Settings;
use portcullis::db::{self, Pool};
use portcullis::domain::{Email, Role};
use portcullis::startup::Application;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::Value;

pub const PASSWORD: &str = "tangerine orbit velvet cactus";
const ADMIN_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database: a SQLite file in a temp dir, or a randomly named PostgreSQL
/// database that is dropped when this value goes away.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend, dir: &std::path::Path) -> Self {
        match backend {
            Backend::Sqlite => Self { url: dir.join("test.db").display().to_string(), pg_name: None },
            Backend::Postgres => {
                let name = format!("portcullis_test_{}", uuid_like());
                let mut admin = PgConnection::establish(ADMIN_PG_URL).expect("PostgreSQL must be reachable");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create database");
                Self { url: format!("postgres://postgres@127.0.0.1:5432/{name}"), pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut admin) = PgConnection::establish(ADMIN_PG_URL)
        {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

fn uuid_like() -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:PORT` of the metrics listener, when the settings ask for one.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub jar: Arc<Jar>,
    pub pool: Pool,
    pub settings: Settings,
    /// Kept for their Drop: the database and the temp dir live as long as the app.
    pub _db: TestDb,
    pub _dir: tempfile::TempDir,
}

pub struct TestUser {
    pub email: String,
    pub password: String,
    pub id: String,
}

tokio::task_local! {
    /// The backend the current test runs on; set by the wrappers `backend_tests!` generates.
    static BACKEND: Backend;
}

/// Runs one test body on `backend`. PostgreSQL tests run whenever 127.0.0.1:5432 answers;
/// with CI=true they must run, so an unreachable server fails them instead of skipping.
pub async fn on_backend<F: std::future::Future<Output = ()>>(backend: Backend, test: F) {
    if backend == Backend::Postgres && std::net::TcpStream::connect("127.0.0.1:5432").is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but PostgreSQL is not reachable on 127.0.0.1:5432"
        );
        eprintln!("skipping: PostgreSQL is not reachable on 127.0.0.1:5432");
        return;
    }
    BACKEND.scope(backend, test).await;
}

/// Declares every listed `async fn` test twice: `sqlite::name` and `postgres::name`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::on_backend($crate::helpers::Backend::Sqlite, super::$name()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::on_backend($crate::helpers::Backend::Postgres, super::$name()).await;
                }
            )*
        }
    };
}
pub(crate) use backend_tests;

/// The app on the current test's backend, with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app on the current test's backend, after `tweak` adjusts the settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let backend = BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite);
    spawn_app_on(backend, tweak).await
}

/// Starts the app on `backend` after letting `tweak` adjust the settings.
pub async fn spawn_app_on(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::new(backend, dir.path());
    let mut settings = Settings::with_database(db.url.clone());
    settings.addr = "127.0.0.1:0".parse().expect("addr");
    settings.key_file = dir.path().join("portcullis.key");
    settings.db_pool = 4;
    tweak(&mut settings);
    let app = Application::build(settings.clone()).expect("the app builds");
    let port = app.port();
    let metrics_address = app.metrics_port().map(|p| format!("http://127.0.0.1:{p}"));
    tokio::spawn(app.run_until_stopped());
    let pool = db::connect(&settings.database_url, 2, settings.db_timeout).expect("test pool");
    let jar = Arc::new(Jar::default());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        metrics_address,
        client: client_with(jar.clone()),
        jar,
        pool,
        settings,
        _db: db,
        _dir: dir,
    }
}

pub fn client_with(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Inserts a user straight into the database.
    pub fn add_user(&self, role: Role) -> TestUser {
        let email = format!("user-{}@example.com", uuid_like());
        let hash = password::hash_blocking(&SecretString::from(PASSWORD)).expect("hash");
        let mut conn = self.pool.get().expect("conn");
        let user = register::create_user(
            &mut conn,
            &Email::try_from(email.as_str()).expect("email"),
            &hash,
            role,
            true,
        )
        .expect("user");
        TestUser { email, password: PASSWORD.into(), id: user.id.to_string() }
    }

    /// Flips `users.disabled` and nothing else, to prove the guard checks the flag itself.
    pub fn set_disabled_flag_only(&self, user: &TestUser) {
        use diesel::{ExpressionMethods, QueryDsl};
        use portcullis::db::schema::users;
        let mut conn = self.pool.get().expect("conn");
        diesel::update(users::table.find(&user.id))
            .set(users::disabled.eq(true))
            .execute(&mut **conn)
            .expect("update");
    }

    /// The kinds of the user's stored security events, newest first.
    pub fn event_kinds(&self, user: &TestUser) -> Vec<String> {
        let mut conn = self.pool.get().expect("conn");
        let events =
            portcullis::db::events::recent_events(&mut conn, &user.id.as_str().into(), 100).expect("events");
        events.into_iter().map(|e| e.kind.as_str().to_owned()).collect()
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client.post(self.url(path)).form(form).send().await.expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request")
    }

    /// A cookie-authenticated API POST with the `X-CSRF-Token` header, as a browser app sends it.
    pub async fn api_post(&self, path: &str) -> Response {
        let csrf = self.cookie("csrf_token").unwrap_or_default();
        self.client.post(self.url(path)).header("x-csrf-token", csrf).send().await.expect("request")
    }

    /// The current value of a cookie in the client's jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.address.parse().expect("url");
        let header = self.jar.cookies(&url)?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    /// Loads a page so the CSRF cookie is set, and returns the token its forms carry.
    pub async fn csrf_token(&self) -> String {
        let res = self.get("/login").await;
        assert_eq!(res.status(), StatusCode::OK);
        self.cookie("csrf_token").expect("a csrf cookie")
    }

    pub async fn login_form(&self, email: &str, password: &str, remember: bool) -> Response {
        let csrf = self.csrf_token().await;
        let mut form = vec![("email", email), ("password", password), ("csrf_token", csrf.as_str())];
        if remember {
            form.push(("remember", "1"));
        }
        self.post_form("/login", &form).await
    }

    pub async fn login_as(&self, user: &TestUser) {
        let res = self.login_form(&user.email, &user.password, false).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "login failed");
    }

    pub async fn token(&self, username: &str, password: &str) -> Response {
        self.post_form(
            "/api/auth/token",
            &[("grant_type", "password"), ("username", username), ("password", password)],
        )
        .await
    }

    /// A Bearer access token from the token endpoint.
    pub async fn bearer_for(&self, user: &TestUser) -> String {
        let body: Value = self.token(&user.email, &user.password).await.json().await.expect("json");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A Bearer access token for a user with TOTP on: the token endpoint, then the code step.
    pub async fn bearer_for_with_code(&self, user: &TestUser, code: &str) -> String {
        let first: Value = self.token(&user.email, &user.password).await.json().await.expect("json");
        let mfa_token = first["mfa_token"].as_str().expect("mfa_required");
        let body = serde_json::json!({"mfa_token": mfa_token, "code": code});
        let done: Value = self.post_json("/api/auth/mfa", &body).await.json().await.expect("json");
        done["access_token"].as_str().expect("access_token").to_owned()
    }

    /// A request with a fresh client (no cookies) and the given bearer token, with a JSON body.
    pub async fn bearer_call(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut req = reqwest::Client::new().request(method, self.url(path)).bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.expect("request")
    }

    /// `GET /api/me` with a fresh client (no cookies) and the given bearer token.
    pub async fn me_with_bearer(&self, token: &str) -> Response {
        reqwest::Client::new().get(self.url("/api/me")).bearer_auth(token).send().await.expect("request")
    }
}

/// All `Set-Cookie` headers of a response, as written.
pub fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
}

pub fn set_cookie<'a>(cookies: &'a [String], name: &str) -> Option<&'a String> {
    cookies.iter().find(|c| c.starts_with(&format!("{name}=")))
}

/// Asserts the SPEC's JSON error shape and returns the error code.
pub async fn error_code(res: Response) -> String {
    let body: Value = res.json().await.expect("a JSON error body");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "no message in {body}");
    body["error"].as_str().expect("an error code").to_owned()
}
