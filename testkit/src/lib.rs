//! The one home of the test harness that Portcullis's own tests and its example app's share:
//! a fresh database per test on both backends (`backend_tests!`), a free loopback port, real
//! headless Chromium over WebDriver ([`Browser`]), a real SMTP server ([`SmtpSink`]), and a
//! cookie-keeping HTTP client that does not follow redirects.

mod browser;
mod smtp;

use std::sync::Arc;
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use reqwest::cookie::Jar;

pub use browser::{Browser, serve_page};
pub use smtp::{Received, SmtpSink};

const ADMIN_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database: a SQLite file in a temp dir, or a randomly named PostgreSQL database that
/// is dropped when this value goes away.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    pub fn new(backend: Backend, dir: &std::path::Path) -> Self {
        match backend {
            Backend::Sqlite => Self { url: dir.join("test.db").display().to_string(), pg_name: None },
            Backend::Postgres => {
                let name = format!("portcullis_test_{}", random_hex());
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

/// 64 random bits as hex: names of throwaway databases, addresses, accounts.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

tokio::task_local! {
    /// The backend the current test runs on; set by the wrappers `backend_tests!` generates.
    static BACKEND: Backend;
}

/// The backend of the test that is running (SQLite outside `backend_tests!`).
pub fn current_backend() -> Backend {
    BACKEND.try_with(|b| *b).unwrap_or(Backend::Sqlite)
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
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::on_backend($crate::Backend::Sqlite, super::$name()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::on_backend($crate::Backend::Postgres, super::$name()).await;
                }
            )*
        }
    };
}

/// A free loopback port (bound and released: whoever binds it next gets it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

/// An HTTP client as a browser app would be: a cookie jar, no redirects followed.
pub fn client_with(jar: Arc<Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}
