//! Who gets mail, how much, and what the queue keeps (SPEC §4, §7), over real SMTP on both
//! backends. Per-address budgets count only mail that was queued, apart per kind of mail, so
//! nobody silences another address's reset mails; a request to move an account tells its owner
//! the same whether or not the new address is taken; only a bare address is an address, and mail
//! goes exactly there; a queued mail holds no working link in the database.

use std::time::Duration;

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use portcullis::config::Registration;
use portcullis::db::schema::outbox;
use portcullis::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, TestUser, backend_tests, error_code, spawn_app_with, spawn_app_with_mail};
use portcullis_testkit::{SmtpSink, free_port};

backend_tests!(
    nobody_can_silence_another_addresses_reset_mails,
    the_change_notice_is_the_same_for_a_free_and_a_taken_address,
    only_a_bare_address_registers_and_mail_goes_exactly_there,
    an_undeliverable_recipient_is_given_up_at_once,
    queued_mail_holds_no_working_link_while_smtp_is_down,
);

async fn ask_to_move(app: &TestApp, token: &str, user: &TestUser, to: &str) {
    let body = json!({"new_email": to, "current_password": user.password});
    let res = app.bearer_call(token, Method::POST, "/api/account/email", Some(body)).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

/// Lets the worker deliver what is queued, then gives what reached `to`.
async fn settled(app: &TestApp, sink: &SmtpSink, to: &str) -> Vec<String> {
    for _ in 0..100 {
        let mut conn = app.pool.get().unwrap();
        if portcullis::db::outbox::pending(&mut conn).unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sink.received().into_iter().filter(|m| m.to == to).map(|m| m.subject().to_owned()).collect()
}

async fn nobody_can_silence_another_addresses_reset_mails() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |s| s.registration = Registration::Open).await;
    let (victim, attacker) = (app.add_user(Role::User), app.add_user(Role::User));
    let token = app.bearer_for(&attacker).await;
    // Moving one's own account to a taken address sends it nothing, and so counts for nothing.
    for _ in 0..4 {
        ask_to_move(&app, &token, &attacker, &victim.email).await;
    }
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": victim.email})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let mails = sink.wait_for(&victim.email, 1).await;
    assert_eq!(mails[0].subject(), "Reset your Portcullis password", "{mails:?}");
}

async fn the_change_notice_is_the_same_for_a_free_and_a_taken_address() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |s| s.registration = Registration::Verify).await;
    let (owner, taken) = (app.add_user(Role::User), app.add_user(Role::User));
    let token = app.bearer_for(&owner).await;
    let free = format!("free-{}", owner.email);
    ask_to_move(&app, &token, &owner, &free).await;
    ask_to_move(&app, &token, &owner, &taken.email).await;
    let notices = settled(&app, &sink, &owner.email).await;
    assert_eq!(
        notices,
        vec!["A change of your Portcullis email address was requested"; 2],
        "the requester's own inbox tells nothing about which address is taken"
    );
    assert_eq!(settled(&app, &sink, &free).await, vec!["Confirm your new email address for Portcullis"]);
    assert!(settled(&app, &sink, &taken.email).await.is_empty(), "a taken address gets no link");
}

async fn only_a_bare_address_registers_and_mail_goes_exactly_there() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |s| s.registration = Registration::Open).await;
    for hostile in [
        "n0<t@victim.test>",
        "ceo\u{FF20}corp.example<attacker@evil.example>",
        "Boss <boss@example.com>",
        "\"boss\"@example.com",
        "\u{202E}moc.elpmaxe@nimda",
        "admin\u{200B}@example.com",
    ] {
        let body = json!({"email": hostile, "password": crate::helpers::PASSWORD});
        let res = app.post_json("/api/auth/register", &body).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{hostile:?}");
        assert_eq!(error_code(res).await, "invalid_email");
        let res = app.post_json("/api/auth/forgot-password", &json!({"email": hostile})).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "the same answer as ever");
    }
    let irish = format!("o'brien-{}@example.com", free_port());
    let body = json!({"email": irish, "password": crate::helpers::PASSWORD});
    assert_eq!(app.post_json("/api/auth/register", &body).await.status(), StatusCode::CREATED);
    let mails = sink.wait_for(&irish, 1).await;
    assert_eq!(mails[0].subject(), "Confirm your email address for Portcullis");
    assert!(
        sink.received().iter().all(|m| m.to == irish),
        "nothing went to any address inside a name: {:?}",
        sink.received()
    );
}

async fn an_undeliverable_recipient_is_given_up_at_once() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |s| s.registration = Registration::Open).await;
    // A row from before addresses were parsed strictly.
    {
        let mut conn = app.pool.get().unwrap();
        let mail = portcullis::db::outbox::OutboxMail {
            id: "legacy-quoted".into(),
            recipient: "\"quoted\" <x@example.com>".into(),
            subject: "hello".into(),
            text_body: "hello".into(),
            html_body: "<p>hello</p>".into(),
            created_at: portcullis::db::now(),
            attempts: 0,
            next_attempt_at: portcullis::db::now(),
        };
        portcullis::db::outbox::enqueue(&mut conn, &mail).unwrap();
    }
    for _ in 0..50 {
        let mut conn = app.pool.get().unwrap();
        let (attempts, failed): (i64, Option<i64>) = outbox::table
            .find("legacy-quoted")
            .select((outbox::attempts, outbox::failed_at))
            .first(&mut **conn)
            .unwrap();
        if failed.is_some() {
            assert_eq!(attempts, 1, "retrying cannot make it an address");
            assert!(sink.received().is_empty());
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the mail was not given up");
}

async fn queued_mail_holds_no_working_link_while_smtp_is_down() {
    let port = free_port();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.mail_retry = Duration::from_secs(1);
    })
    .await;
    let user = app.add_user(Role::User);
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": user.email})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    // What a backup taken now would hold: the queued row, retried and failing.
    let mut stored = Vec::new();
    for _ in 0..50 {
        let mut conn = app.pool.get().unwrap();
        let rows: Vec<(String, String, Option<String>)> = outbox::table
            .filter(outbox::recipient.eq(&user.email))
            .select((outbox::text_body, outbox::html_body, outbox::last_error))
            .load(&mut **conn)
            .unwrap();
        if rows.iter().any(|r| r.2.is_some()) {
            stored = rows;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored.len(), 1, "the mail waits in the outbox");
    let (text, html, _) = &stored[0];
    for body in [text, html] {
        assert!(!body.contains("token=") && !body.contains("reset-password"), "a link at rest: {body}");
    }
    // The mail server comes back: the same mail arrives, and its link works.
    let Some(sink) = SmtpSink::start_on(port, 0.0) else { return };
    let mail = sink.wait_for(&user.email, 1).await.remove(0);
    let link = mail.link("/reset-password?token=").expect("a reset link");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(!text.contains(&token) && !html.contains(&token));
    let body = json!({"token": token, "password": "a brand new passphrase for this account"});
    assert_eq!(app.post_json("/api/auth/reset-password", &body).await.status(), StatusCode::NO_CONTENT);
}
