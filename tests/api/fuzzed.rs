//! The JSON API fuzzed from outside: Schemathesis (a tool nobody here wrote) reads
//! `/api/openapi.json`, signs in with a Bearer token (`tests/schemathesis_hooks.py`), and sends
//! every operation valid and invalid requests; every answer must be one the document allows,
//! in the content type and shape it gives, and never a 5xx. The document itself must pass
//! `openapi-spec-validator`. Both tools live in the virtualenv `.ci/run` creates.

use std::path::PathBuf;

use portcullis::domain::Role;
use tokio::process::Command;

use crate::helpers::{backend_tests, spawn_app_with};

/// Not `all`: `positive_data_acceptance` cannot know the password policy or which tokens exist.
const CHECKS: &str =
    "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// Where `.ci/run` installs Schemathesis and the validator (`PORTCULLIS_FUZZ_VENV` overrides).
fn venv() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTCULLIS_FUZZ_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/schemathesis-venv")));
    if dir.join("bin/st").exists() && dir.join("bin/openapi-spec-validator").exists() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {} has no Schemathesis (.ci/run creates it)",
        dir.display()
    );
    eprintln!("skipping: no Schemathesis in {} (bash .ci/run installs it)", dir.display());
    None
}

async fn schemathesis_finds_nothing_wrong_with_any_operation() {
    let Some(venv) = venv() else { return };
    // The run guesses thousands of passwords: without this the throttle would answer most of
    // them, and the sign-ins the auth hook makes would wait for it.
    let app = spawn_app_with(|s| {
        s.throttle_account = 1_000_000;
        s.throttle_ip = 1_000_000;
    })
    .await;
    let admin = app.add_user(Role::Admin);
    let target = app.add_user(Role::User);
    let work = tempfile::tempdir().expect("work dir");

    let document = work.path().join("openapi.json");
    let text = app.get("/api/openapi.json").await.text().await.expect("the document");
    std::fs::write(&document, text).expect("write the document");
    let out =
        Command::new(venv.join("bin/openapi-spec-validator")).arg(&document).output().await.expect("runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the document does not validate:\n{said}");

    let out = Command::new(venv.join("bin/st"))
        .args(["run", &app.url("/api/openapi.json"), "--checks", CHECKS, "--max-examples", "50"])
        .env("SCHEMATHESIS_HOOKS", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis_hooks.py"))
        .env("PORTCULLIS_URL", &app.address)
        .env("PORTCULLIS_EMAIL", &admin.email)
        .env("PORTCULLIS_PASSWORD", &admin.password)
        .env("PORTCULLIS_TARGET_USER_ID", &target.id)
        .env("NO_COLOR", "1")
        .current_dir(work.path())
        .output()
        .await
        .expect("Schemathesis runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "Schemathesis found something:\n{said}");
    let summary = said.lines().rev().find(|l| l.contains(" generated")).unwrap_or_default().trim();
    let generated: u64 = summary.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(generated > 1000, "too little was tested ({summary}):\n{said}");
    eprintln!("Schemathesis: {summary}");
}

backend_tests!(schemathesis_finds_nothing_wrong_with_any_operation);
