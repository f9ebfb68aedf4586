//! Portcullis inside a host's actix-web app, through the public API only (SPEC §12), on both
//! backends: the host's routes reachable before and after Portcullis's whatever the order, `/`
//! and `/api/…` beside Portcullis's own; a route the host forgot to wrap in a policy signs
//! nobody in (`CurrentUser` fails closed); a host migration whose version is one of
//! Portcullis's refused instead of skipped; the background work stopping with the server.
//! `examples/notes` is the full example; these are the edges it does not show.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use portcullis::{AppMigrations, CurrentUser, MaybeUser, Portcullis, Settings, api_policy, page_policy};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestDb, backend_tests, client_with, current_backend, random_hex};

backend_tests!(
    a_hosts_routes_sit_before_and_after_portcullis_and_at_the_root,
    a_route_without_a_policy_signs_nobody_in,
    a_host_migration_with_one_of_portcullis_versions_is_refused,
    the_background_work_stops_with_the_server,
);

const CLASHING_SQLITE: EmbeddedMigrations = embed_migrations!("tests/fixtures/clashing_migrations/sqlite");
const CLASHING_POSTGRES: EmbeddedMigrations =
    embed_migrations!("tests/fixtures/clashing_migrations/postgres");

/// Settings for a host on the current backend, on port 0 with a fresh database.
fn host_settings(dir: &tempfile::TempDir) -> (Settings, TestDb) {
    let db = TestDb::new(current_backend(), dir.path());
    let mut settings = Settings::with_database(db.url.clone());
    settings.addr = "127.0.0.1:0".parse().expect("addr");
    settings.key_file = dir.path().join("portcullis.key");
    settings.db_pool = 4;
    (settings, db)
}

async fn whoami(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(json!({"email": user.0.email}))
}

async fn maybe(user: MaybeUser) -> HttpResponse {
    HttpResponse::Ok().body(user.0.map_or_else(|| "nobody".to_owned(), |u| u.email))
}

/// A host with routes registered before Portcullis's (`/api/early`, `/early`), after them
/// (`/api/late`, `/late`), its own `/`, and two routes it forgot to wrap (`/bare`,
/// `/api/bare`). Returns its base URL and the server's handle.
fn start_host(settings: Settings) -> (String, actix_web::dev::ServerHandle, tokio::task::JoinHandle<()>) {
    let (portcullis, listener) = Portcullis::bind(settings).expect("Portcullis builds");
    let base = format!("http://{}", portcullis.settings().addr);
    let routes = portcullis.routes().without_home_page();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(from_fn(portcullis::app_layer))
            .service(web::resource("/api/early").wrap(from_fn(api_policy)).get(whoami).post(whoami))
            .service(web::resource("/early").wrap(from_fn(page_policy)).get(whoami))
            .configure(|cfg| routes.mount(cfg))
            .service(web::resource("/").get(|| async { HttpResponse::Ok().body("the host's own home") }))
            .service(web::resource("/api/late").wrap(from_fn(api_policy)).get(whoami))
            .service(web::resource("/late").wrap(from_fn(page_policy)).get(maybe))
            .service(web::resource("/bare").get(maybe).post(whoami))
            .service(web::resource("/api/bare").get(whoami).post(whoami))
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    let running = tokio::spawn(async move {
        portcullis.run_until_stopped(server).await.expect("the server ran");
    });
    (base, handle, running)
}

/// Registers someone through Portcullis's API; returns their cookie-keeping client and email.
async fn sign_up(base: &str) -> (reqwest::Client, std::sync::Arc<reqwest::cookie::Jar>, String) {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = client_with(jar.clone());
    let email = format!("host-{}@example.com", random_hex());
    let res = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::CREATED);
    (client, jar, email)
}

async fn a_hosts_routes_sit_before_and_after_portcullis_and_at_the_root() {
    let dir = tempfile::tempdir().expect("dir");
    let (settings, _db) = host_settings(&dir);
    let (base, handle, running) = start_host(settings);
    let anonymous = client_with(std::sync::Arc::new(reqwest::cookie::Jar::default()));
    let home = anonymous.get(format!("{base}/")).send().await.expect("request");
    assert_eq!(home.text().await.expect("body"), "the host's own home", "`/` is the host's");
    for path in ["/api/early", "/api/late"] {
        let res = anonymous.get(format!("{base}{path}")).send().await.expect("request");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let res = anonymous.get(format!("{base}/early")).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=%2Fearly");

    let (client, _, email) = sign_up(&base).await;
    for path in ["/api/early", "/api/late", "/early"] {
        let res = client.get(format!("{base}{path}")).send().await.expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.json::<serde_json::Value>().await.expect("json")["email"], email.as_str());
    }
    let late = client.get(format!("{base}/late")).send().await.expect("request");
    assert_eq!(late.text().await.expect("body"), email);
    // Portcullis's own routes are all still there, beside the host's.
    assert_eq!(client.get(format!("{base}/api/me")).send().await.expect("me").status(), StatusCode::OK);
    assert_eq!(client.get(format!("{base}/account")).send().await.expect("page").status(), StatusCode::OK);
    let jwks = anonymous.get(format!("{base}/.well-known/jwks.json")).send().await.expect("jwks");
    assert_eq!(jwks.status(), StatusCode::OK);
    // Without the standalone fallbacks an unknown address is the host's to answer (actix: 404).
    let unknown = anonymous.get(format!("{base}/api/nothing-here")).send().await.expect("request");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    handle.stop(true).await;
    running.await.expect("stopped");
}

async fn a_route_without_a_policy_signs_nobody_in() {
    let dir = tempfile::tempdir().expect("dir");
    let (settings, _db) = host_settings(&dir);
    let (base, handle, running) = start_host(settings);
    let (client, jar, _) = sign_up(&base).await;
    let bare = client.get(format!("{base}/bare")).send().await.expect("request");
    assert_eq!(bare.text().await.expect("body"), "nobody", "no policy, no identity");
    let api = client.get(format!("{base}/api/bare")).send().await.expect("request");
    // CurrentUser fails closed; without a policy the route's kind is unknown, so the answer
    // has the pages' shape (to the sign-in page) — never the handler's 200.
    assert_eq!(api.status(), StatusCode::SEE_OTHER, "CurrentUser fails closed");
    // An unsafe cookie request on such a route is refused too, CSRF token in hand or not.
    let csrf = reqwest::cookie::CookieStore::cookies(&*jar, &base.parse().expect("url"))
        .and_then(|h| {
            let h = h.to_str().ok()?.to_owned();
            h.split("; ").find_map(|c| c.strip_prefix("csrf_token=").map(str::to_owned))
        })
        .expect("a csrf cookie");
    for path in ["/bare", "/api/bare"] {
        let res =
            client.post(format!("{base}{path}")).header("x-csrf-token", &csrf).send().await.expect("post");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}: the handler never ran");
    }
    handle.stop(true).await;
    running.await.expect("stopped");
}

async fn a_host_migration_with_one_of_portcullis_versions_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let (settings, _db) = host_settings(&dir);
    let portcullis = Portcullis::build(settings).expect("Portcullis builds");
    let clashing = AppMigrations { sqlite: CLASHING_SQLITE, postgres: CLASHING_POSTGRES };
    let error = format!("{:#}", portcullis.migrate(clashing).expect_err("a clash is refused"));
    assert!(error.contains("20261124000001") && error.contains("rename it"), "{error}");
}

async fn the_background_work_stops_with_the_server() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut settings, _db) = host_settings(&dir);
    settings.metrics_addr = Some("127.0.0.1:0".parse().expect("addr"));
    let (portcullis, listener) = Portcullis::bind(settings).expect("Portcullis builds");
    let metrics = format!("http://127.0.0.1:{}/metrics", portcullis.metrics_port().expect("a metrics port"));
    let routes = portcullis.routes();
    let server = HttpServer::new(move || App::new().configure(|cfg| routes.mount(cfg)))
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
    let handle = server.handle();
    let running = tokio::spawn(portcullis.run_until_stopped(server));
    let scrape = reqwest::get(&metrics).await.expect("the metrics listener runs beside the server");
    assert_eq!(scrape.status(), StatusCode::OK);
    handle.stop(true).await;
    tokio::time::timeout(std::time::Duration::from_secs(10), running)
        .await
        .expect("run_until_stopped returns once the server stopped")
        .expect("joined")
        .expect("no error");
    assert!(reqwest::get(&metrics).await.is_err(), "the metrics listener stopped with the server");
}
