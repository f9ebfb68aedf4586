//! Database trouble: a clear exit when it is unreachable at startup, and 503s that heal
//! by themselves when it goes away and comes back during operation.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portcullis::domain::Role;
use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::helpers::{Backend, error_code, spawn_app_on};

#[test]
fn an_unreachable_database_at_startup_is_one_line_and_a_non_zero_exit() {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nothing")
        .env("PORTCULLIS_ADDR", "127.0.0.1:0")
        .env("PORTCULLIS_DB_TIMEOUT", "2s")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("cannot open the Postgres database") && err.contains("127.0.0.1"), "{err}");
}

/// A TCP proxy to PostgreSQL that can be cut (every connection dropped, new ones
/// refused) and restored, standing in for a database outage without touching the
/// shared server.
struct FlakyProxy {
    port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl FlakyProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, cut) = (Arc::new(AtomicBool::new(true)), Arc::new(Notify::new()));
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused, in effect
                }
                let cut = cut2.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        Self { port, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_gives_503s_and_heals_by_itself() {
    if std::net::TcpStream::connect("127.0.0.1:5432").is_err() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but PostgreSQL is not reachable");
        return;
    }
    let proxy = FlakyProxy::start().await;
    let port = proxy.port;
    let app = spawn_app_on(Backend::Postgres, |s| {
        s.database_url = s.database_url.replace("127.0.0.1:5432", &format!("127.0.0.1:{port}"));
        s.db_timeout = Duration::from_secs(1);
    })
    .await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    proxy.cut();
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(ready).await, "service_unavailable");
    let me = app.me_with_bearer(&token).await;
    assert_eq!(me.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(me).await, "service_unavailable");
    let login = app.token(&user.email, &user.password).await;
    assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "liveness does not depend on the database"
    );

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.get("/readyz").await.status() != StatusCode::OK {
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::OK);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
}
