//! For the tests of signing in with another provider: `portcullis provider add` against a
//! running app's database, and a small stand-in provider served on its own thread.

use std::io::Write;
use std::process::{Command, Stdio};

use actix_web::{App, HttpServer, web};

use super::TestApp;

/// Runs `portcullis provider add ARGS…` for `down` (its database, key file and public URL),
/// with `secret` on stdin; it must succeed.
pub fn provider_add(down: &TestApp, args: &[&str], secret: &str) {
    let mut add = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["provider", "add"])
        .args(args)
        .env("DATABASE_URL", &down.settings.database_url)
        .env("PORTCULLIS_KEY_FILE", &down.settings.key_file)
        .env("PORTCULLIS_PUBLIC_URL", &down.address)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("provider add");
    add.stdin.take().expect("stdin").write_all(format!("{secret}\n").as_bytes()).expect("secret");
    assert!(add.wait_with_output().expect("exit").status.success(), "provider add {args:?}");
}

/// Serves the routes `configure` sets up on a free loopback port, on a thread of its own, for
/// the rest of the test run; its base URL.
pub fn serve(configure: impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://127.0.0.1:{}", listener.local_addr().expect("addr").port());
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || App::new().configure(configure.clone()))
                .workers(1)
                .listen(listener)
                .expect("listen")
                .run()
                .await
        })
    });
    base
}
