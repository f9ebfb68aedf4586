//! The CLI, run as the built binary against a temporary SQLite file.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::helpers::{Backend, PASSWORD, spawn_app_on};

fn portcullis(db: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .env("DATABASE_URL", db)
        .env("PORTCULLIS_KEY_FILE", format!("{db}.key"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn help_lists_every_setting_and_never_a_secret_value() {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["serve", "--help"])
        .env("PORTCULLIS_JWT_SECRET", "a-secret-that-must-never-be-printed-0123456789")
        .env("DATABASE_URL", "postgres://user:hunter2@db.example/auth")
        .env("PORTCULLIS_SMTP_URL", "smtp://relay:mailpass-never-shown@mail.example:587")
        .output()
        .unwrap();
    let help = text(&out);
    assert!(out.status.success(), "{help}");
    for var in portcullis::config::VARS.iter().filter(|v| v.name != "RUST_LOG") {
        assert!(help.contains(var.name), "{} is missing from --help", var.name);
    }
    assert!(help.contains("[default: 15m]"), "{help}");
    assert!(!help.contains("a-secret-that-must-never") && !help.contains("hunter2"), "{help}");
    assert!(!help.contains("mailpass-never-shown"), "{help}");
    let user_help = Command::new(env!("CARGO_BIN_EXE_portcullis")).args(["user", "add", "--help"]).output();
    assert!(text(&user_help.unwrap()).contains("PORTCULLIS_PASSWORD_MIN"));
}

#[test]
fn an_invalid_setting_stops_with_one_line_naming_it_and_an_empty_one_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cfg.db").display().to_string();
    let bad = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("migrate")
        .env("DATABASE_URL", &db)
        .env("PORTCULLIS_ACCESS_TTL", "soon")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("PORTCULLIS_ACCESS_TTL"), "{stderr}");
    let empty = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("migrate")
        .env("DATABASE_URL", &db)
        .env("PORTCULLIS_KEY_FILE", format!("{db}.key"))
        .env("PORTCULLIS_ACCESS_TTL", "")
        .env("PORTCULLIS_JWT_SECRET", "")
        .env("PORTCULLIS_DB_POOL", "")
        .output()
        .unwrap();
    assert!(empty.status.success(), "{}", text(&empty));
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db").display().to_string();
    let out = portcullis(&db, &["migrate"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(std::path::Path::new(&db).exists());
}

#[test]
fn user_add_list_disable_enable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db").display().to_string();
    let add = portcullis(&db, &["user", "add", "Boss@Example.com", "--admin"], &format!("{PASSWORD}\n"));
    assert!(add.status.success(), "{}", text(&add));
    let again = portcullis(&db, &["user", "add", "boss@example.com"], &format!("{PASSWORD}\n"));
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    let list = portcullis(&db, &["user", "list"], "");
    assert!(text(&list).contains("boss@example.com\tadmin\tactive"), "{}", text(&list));
    let only_admin = portcullis(&db, &["user", "disable", "boss@example.com"], "");
    assert!(!only_admin.status.success(), "the last enabled admin stays enabled");
    assert!(
        portcullis(&db, &["user", "add", "clerk@example.com"], &format!("{PASSWORD}\n")).status.success()
    );
    let disable = portcullis(&db, &["user", "disable", "clerk@example.com"], "");
    assert!(disable.status.success(), "{}", text(&disable));
    assert!(text(&portcullis(&db, &["user", "list"], "")).contains("clerk@example.com\tuser\tdisabled"));
    assert!(portcullis(&db, &["user", "enable", "clerk@example.com"], "").status.success());
    assert!(text(&portcullis(&db, &["user", "list"], "")).contains("\tactive"));
    let missing = portcullis(&db, &["user", "disable", "ghost@example.com"], "");
    assert!(!missing.status.success() && text(&missing).contains("no account"));
}

#[test]
fn user_add_applies_the_password_policy() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db").display().to_string();
    let out = portcullis(&db, &["user", "add", "a@example.com"], "short\n");
    assert!(!out.status.success());
    assert!(text(&out).contains("at least 15 characters"), "{}", text(&out));
}

#[test]
fn an_invalid_setting_stops_startup_with_one_line_naming_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .env("PORTCULLIS_ACCESS_TTL", "forever")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("PORTCULLIS_ACCESS_TTL"));
}

#[tokio::test]
async fn a_user_added_by_the_cli_signs_in_and_disable_cuts_them_off() {
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let db = app.settings.database_url.clone();
    let add = portcullis(&db, &["user", "add", "cli@example.com"], &format!("{PASSWORD}\r\n"));
    assert!(add.status.success(), "{}", text(&add));
    let res = app.token("cli@example.com", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.me_with_bearer(&token).await.status(), 200);
    assert!(portcullis(&db, &["user", "disable", "cli@example.com"], "").status.success());
    assert_eq!(app.me_with_bearer(&token).await.status(), 401);
}

#[test]
fn the_server_logs_its_bound_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .current_dir(dir.path())
        .env("PORTCULLIS_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let mut found = None;
    while std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0 {
        if let Some(at) = line.find("listening on http://127.0.0.1:") {
            found = Some(line[at..].trim().to_owned());
            break;
        }
        line.clear();
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let found = found.expect("the bound address is logged");
    assert!(!found.ends_with(":0"), "{found}");
    assert!(dir.path().join("portcullis.db").exists() && dir.path().join("portcullis.key").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_password_role_verify_and_delete_from_the_command_line() {
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let db = app.settings.database_url.clone();
    let run = |args: &[&str], stdin: &str| portcullis(&db, args, stdin);
    assert!(run(&["user", "add", "boss@example.com", "--admin"], &format!("{PASSWORD}\n")).status.success());
    assert!(run(&["user", "add", "staff@example.com"], &format!("{PASSWORD}\n")).status.success());
    let token = app
        .bearer_for(&crate::helpers::TestUser {
            email: "staff@example.com".into(),
            password: PASSWORD.into(),
            id: String::new(),
        })
        .await;
    let new = "an operator chose this passphrase";
    let set = run(&["user", "set-password", "staff@example.com"], &format!("{new}\n"));
    assert!(set.status.success(), "{}", text(&set));
    assert_eq!(app.me_with_bearer(&token).await.status(), 401, "every session ended");
    assert_eq!(app.token("staff@example.com", new).await.status(), 200);
    let weak = run(&["user", "set-password", "staff@example.com"], "short\n");
    assert!(!weak.status.success() && text(&weak).contains("at least"), "{}", text(&weak));
    let demote = run(&["user", "role", "boss@example.com", "user"], "");
    assert!(
        !demote.status.success() && text(&demote).contains("last enabled administrator"),
        "{}",
        text(&demote)
    );
    assert!(run(&["user", "role", "staff@example.com", "admin"], "").status.success());
    assert!(
        run(&["user", "role", "boss@example.com", "user"], "").status.success(),
        "no longer the last one"
    );
    assert!(text(&run(&["user", "list"], "")).contains("boss@example.com\tuser"));
    assert!(!run(&["user", "role", "staff@example.com", "owner"], "").status.success(), "admin or user only");
    assert!(run(&["user", "verify", "staff@example.com"], "").status.success());
    let disable = run(&["user", "disable", "staff@example.com"], "");
    assert!(
        !disable.status.success() && text(&disable).contains("last enabled administrator"),
        "{}",
        text(&disable)
    );
    let last = run(&["user", "delete", "staff@example.com"], "");
    assert!(!last.status.success() && text(&last).contains("last enabled administrator"), "{}", text(&last));
    let gone = run(&["user", "delete", "boss@example.com"], "");
    assert!(gone.status.success(), "{}", text(&gone));
    assert!(!text(&run(&["user", "list"], "")).contains("boss@example.com"));
    assert_eq!(app.token("boss@example.com", PASSWORD).await.status(), 400);
}
