//! spawn_app() starts the real server on port 0 with a fresh database; TestApp drives it
//! over HTTP with a cookie-keeping, non-redirecting client.

use std::sync::Arc;

use diesel::RunQueryDsl;
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

mod instance;
mod jwt;
mod passkeys;
mod upstream;

pub use instance::{Instance, refresh, token};
pub use jwt::{jwks, keys_command, kid_of, parts, token_pair_at, wait_for_new_kid};
pub use passkeys::{add_passkey, on_localhost, passkey_options, soft_register, soft_register_for};
pub use portcullis_testkit::{
    Backend, SmtpSink, TestDb, backend_tests, client_with, current_backend, free_port, on_backend, random_hex,
};
pub use upstream::{provider_add, serve};

pub const PASSWORD: &str = "tangerine orbit velvet cactus";

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

/// The app on the current test's backend, with default settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The app on the current test's backend, after `tweak` adjusts the settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(current_backend(), tweak).await
}

/// The app on the current test's backend, sending its mail to `sink` (retries after a second),
/// after `tweak` adjusts the settings.
pub async fn spawn_app_with_mail(sink: &SmtpSink, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |s| {
        s.smtp_url = Some(url.into());
        s.mail_retry = std::time::Duration::from_secs(1);
        tweak(s);
    })
    .await
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

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Inserts a user straight into the database.
    pub fn add_user(&self, role: Role) -> TestUser {
        let email = format!("user-{}@example.com", random_hex());
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

    /// An access and a refresh token for `user` from the token endpoint (another device).
    pub async fn token_pair(&self, user: &TestUser) -> (String, String) {
        jwt::token_pair_at(&self.address, user).await
    }

    /// How many of the user's sessions are live now.
    pub fn live_sessions(&self, user: &TestUser) -> usize {
        let mut conn = self.pool.get().expect("conn");
        let now = portcullis::db::now();
        portcullis::db::sessions::live_sessions(&mut conn, &user.id.as_str().into(), now)
            .expect("sessions")
            .len()
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
