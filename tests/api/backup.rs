//! Backups and upgrades: `portcullis backup PATH` copies a live SQLite database consistently
//! (and says to use pg_dump on PostgreSQL); today's binary starts on every committed fixture
//! database of an earlier version (`scripts/make-fixtures.sh`) and its users sign in.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use diesel::{Connection, RunQueryDsl};
use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{Backend, TestDb, on_backend, spawn_app_on};

const FIXTURE_PASSWORD: &str = "fixture passphrase for upgrade tests";

fn backup(database_url: &str, dest: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["backup", dest.to_str().unwrap()])
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("portcullis runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_live_sqlite_database_is_consistent_private_and_restores() {
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let users: Vec<_> = (0..5).map(|_| app.add_user(Role::User)).collect();
    // Writes keep going while the copy is made: sign-ins add sessions and events.
    let busy = Arc::new(AtomicBool::new(true));
    let writer = {
        let (busy, base, user) =
            (busy.clone(), app.address.clone(), (users[0].email.clone(), users[0].password.clone()));
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut signed_in = 0;
            while busy.load(Ordering::Relaxed) {
                let form = [
                    ("grant_type", "password"),
                    ("username", user.0.as_str()),
                    ("password", user.1.as_str()),
                ];
                if client
                    .post(format!("{base}/api/auth/token"))
                    .form(&form)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
                {
                    signed_in += 1;
                }
            }
            signed_in
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("copy.db");
    let url = app.settings.database_url.clone();
    let out = tokio::task::spawn_blocking({
        let dest = dest.clone();
        move || backup(&url, &dest)
    })
    .await
    .unwrap();
    busy.store(false, Ordering::Relaxed);
    assert!(writer.await.unwrap() > 0, "the server kept signing people in during the backup");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}{}", String::from_utf8_lossy(&out.stderr));
    assert!(said.contains("backed up 5 users"), "{said}");
    assert_eq!(std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777, 0o600);

    // The copy is a whole database: a server starts on it and every user signs in.
    let restored = spawn_app_on(Backend::Sqlite, |s| s.database_url = dest.display().to_string()).await;
    for user in &users {
        assert_eq!(restored.token(&user.email, &user.password).await.status(), StatusCode::OK);
    }

    // An existing file is never overwritten.
    let before = std::fs::read(&dest).unwrap();
    let again = backup(&app.settings.database_url, &dest);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("must not exist"), "{again:?}");
    assert_eq!(std::fs::read(&dest).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_on_postgresql_points_to_pg_dump_and_writes_nothing() {
    on_backend(Backend::Postgres, async {
        let app = spawn_app_on(Backend::Postgres, |_| {}).await;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("copy.db");
        let out = backup(&app.settings.database_url, &dest);
        assert!(!out.status.success());
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains("pg_dump") && said.lines().count() == 1, "{said}");
        assert!(!dest.exists());
    })
    .await;
}

/// Every fixture committed under `tests/fixtures/`, oldest version first.
fn fixtures(extension: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_str().is_some_and(|p| p.ends_with(extension)))
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no *{extension} fixture in {}", dir.display());
    found
}

/// Today's binary on an earlier version's database: migrations apply, the accounts, their
/// events and the administrator are all there, and people sign in.
async fn upgraded_users_sign_in(app: &crate::helpers::TestApp, fixture: &Path) {
    let user = app.token("user@fixture.test", FIXTURE_PASSWORD).await;
    assert_eq!(user.status(), StatusCode::OK, "{}", fixture.display());
    let admin = app.token("admin@fixture.test", FIXTURE_PASSWORD).await;
    let token: serde_json::Value = admin.json().await.unwrap();
    let listed = app
        .client
        .get(app.url("/api/admin/users"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK, "{}", fixture.display());
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    let mut conn = app.pool.get().unwrap();
    let id = portcullis::db::users::find_user_by_email(&mut conn, "user@fixture.test").unwrap().unwrap().id;
    let kinds: Vec<String> = portcullis::db::events::recent_events(&mut conn, &id, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.kind.as_str().to_owned())
        .collect();
    assert!(kinds.iter().filter(|k| *k == "login_succeeded").count() >= 2, "old and new sign-ins: {kinds:?}");
    assert!(kinds.contains(&"login_failed".to_owned()), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todays_binary_upgrades_every_earlier_sqlite_fixture() {
    for fixture in fixtures(".sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("upgraded.db");
        std::fs::copy(&fixture, &copy).unwrap();
        let app = spawn_app_on(Backend::Sqlite, |s| s.database_url = copy.display().to_string()).await;
        upgraded_users_sign_in(&app, &fixture).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todays_binary_upgrades_every_earlier_postgres_fixture() {
    on_backend(Backend::Postgres, async {
        for fixture in fixtures(".postgres.sql") {
            let dir = tempfile::tempdir().unwrap();
            let db = TestDb::new(Backend::Postgres, dir.path());
            let restore = Command::new("psql")
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
                .arg(&fixture)
                .output()
                .expect("psql runs");
            assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
            let mut check = diesel::pg::PgConnection::establish(&db.url).unwrap();
            diesel::sql_query("SELECT 1 FROM users").execute(&mut check).expect("the dump was restored");
            let url = db.url.clone();
            let app = spawn_app_on(Backend::Postgres, |s| s.database_url = url).await;
            upgraded_users_sign_in(&app, &fixture).await;
        }
    })
    .await;
}
