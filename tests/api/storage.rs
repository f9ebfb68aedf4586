//! Storage that does not grow without bound and is not readable by others (SPEC §8).

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use portcullis::db::purge::{self, Purged};
use portcullis::db::schema::{login_throttle, sessions};
use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_on, spawn_app_with};

/// Ages every session of the database: ended an hour and a half ago.
fn end_all_sessions_long_ago(app: &TestApp) {
    let mut conn = app.pool.get().unwrap();
    let past = portcullis::db::now() - 5400;
    diesel::update(sessions::table)
        .set((sessions::idle_expires_at.eq(past), sessions::absolute_expires_at.eq(past)))
        .execute(&mut **conn)
        .unwrap();
}

fn count_sessions(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    sessions::table.count().get_result(&mut **conn).unwrap()
}

fn add_stale_counter(app: &TestApp, key: &str) {
    let mut conn = app.pool.get().unwrap();
    let old = portcullis::db::now() - 2 * 3600;
    diesel::insert_into(login_throttle::table)
        .values((
            login_throttle::key.eq(key),
            login_throttle::failures.eq(3),
            login_throttle::last_failure_at.eq(old),
            login_throttle::locked_until.eq(0),
        ))
        .execute(&mut **conn)
        .unwrap();
}

/// An expired code-step challenge and an expired passkey ceremony (both purged), and a live
/// challenge (kept).
fn add_expired_second_factor_state(app: &TestApp, user_id: &str) {
    use portcullis::db::mfa::{self, NewChallenge};
    let mut conn = app.pool.get().unwrap();
    let (uid, now) = (user_id.into(), portcullis::db::now());
    for (hash, ttl) in [("expired", -10), ("live", 300)] {
        let challenge = NewChallenge {
            token_hash: hash,
            user_id: &uid,
            flow: "cookie",
            remember: false,
            known_device: false,
            credential_version: 0,
            now,
            ttl,
        };
        mfa::insert(&mut conn, &challenge).unwrap();
    }
    portcullis::db::passkeys::insert_ceremony(&mut conn, "old", None, "{}", now - 10).unwrap();
}

async fn the_purge_deletes_ended_sessions_and_stale_counters_and_keeps_live_ones() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    for _ in 0..3 {
        assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
    }
    end_all_sessions_long_ago(&app);
    app.login_as(&user).await;
    add_stale_counter(&app, "account:stale@example.com");
    add_expired_second_factor_state(&app, &user.id);
    let purged = purge::purge_once(&app.pool, "test").await.unwrap();
    assert_eq!(purged, Some(Purged { sessions: 3, throttle_counters: 1, tokens_and_mails: 2 }));
    assert_eq!(count_sessions(&app), 1, "the live session stays");
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK);
}

async fn only_one_instance_purges_at_a_time() {
    let app = spawn_app().await;
    let mut conn = app.pool.get().unwrap();
    assert!(purge::take_lease(&mut conn, "purge", "other-instance", portcullis::db::now()).unwrap());
    assert_eq!(purge::purge_once(&app.pool, "me").await.unwrap(), None, "another instance holds the lease");
    purge::release_lease(&mut conn, "purge", "other-instance", portcullis::db::now()).unwrap();
    assert!(purge::purge_once(&app.pool, "me").await.unwrap().is_some());
}

async fn the_server_purges_on_its_own_schedule() {
    let app = spawn_app_with(|s| s.purge_every = Duration::from_millis(300)).await;
    let user = app.add_user(Role::User);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
    end_all_sessions_long_ago(&app);
    for _ in 0..50 {
        if count_sessions(&app) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the ended session was never purged");
}

crate::helpers::backend_tests!(
    the_purge_deletes_ended_sessions_and_stale_counters_and_keeps_live_ones,
    only_one_instance_purges_at_a_time,
    the_server_purges_on_its_own_schedule,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_database_is_created_readable_by_its_owner_only() {
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", app.settings.database_url);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{path}");
    }
}

#[test]
fn instances_starting_at_once_on_an_empty_key_file_share_one_ring() {
    use portcullis::keys::{Alg, KeyFile, SigningPair};
    for round in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("portcullis.key");
        if round % 2 == 0 {
            std::fs::write(&path, "").unwrap(); // empty, as a crash mid-creation leaves it
        }
        let ids: Vec<(String, String)> = std::thread::scope(|scope| {
            let loaders: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        let ring = KeyFile::open(&path, &[Alg::EdDSA], 1, 1000, true)
                            .expect("every instance comes up");
                        let active = ring.active(Alg::EdDSA).expect("an active key");
                        let kid =
                            SigningPair::from_der(active.alg, &active.private).expect("a valid key").kid;
                        (ring.master.id.clone(), kid)
                    })
                })
                .collect();
            loaders.into_iter().map(|l| l.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// Processes opening one SQLite file at the same moment (a command run while the server
/// starts): each waits for the others' locks, even while switching the file to WAL, instead of
/// failing with "database is locked".
#[test]
fn many_openers_of_one_sqlite_file_at_once_all_get_in() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().expect("dir");
        let url = dir.path().join("shared.db").display().to_string();
        let opened: Vec<Result<portcullis::db::Pool, String>> = std::thread::scope(|scope| {
            let openers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        portcullis::db::connect(&url, 2, std::time::Duration::from_secs(10))
                            .map_err(|e| format!("{e:#}"))
                    })
                })
                .collect();
            openers.into_iter().map(|o| o.join().expect("thread")).collect()
        });
        let failed: Vec<&String> = opened.iter().filter_map(|o| o.as_ref().err()).collect();
        assert!(failed.is_empty(), "{failed:?}");
    }
}
