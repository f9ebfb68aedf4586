//! The outbox worker: delivers queued mail with retries and back-off. Several instances may run
//! one each; a mail is claimed by one of them at a time (see `db::outbox::claim_due`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use lettre::Address;
use lettre::message::Mailbox;
use secrecy::ExposeSecret;

use super::transport::{Outgoing, Transport};
use crate::db::outbox::{self, OutboxMail};
use crate::db::{self, Pool};
use crate::keys::Sealer;
use crate::metrics::{MailResult, Metrics};

/// Attempts before a mail is given up (logged and counted as failed).
const MAX_ATTEMPTS: i64 = 5;
/// A claim outlives a crashed worker by this much; then another instance may send the mail.
const CLAIM_SECS: i64 = 120;
/// How often the outbox is looked at when nothing woke the worker (mail queued elsewhere).
const POLL: Duration = Duration::from_secs(1);

pub struct Worker {
    pub pool: Pool,
    pub transport: Transport,
    pub from: Mailbox,
    /// Opens the bodies `Mail::outbox_row` sealed.
    pub sealer: Arc<Sealer>,
    /// The first retry waits this long; each further one four times longer.
    pub retry_base: Duration,
    /// Mails sent and given up are counted here.
    pub metrics: Arc<Metrics>,
}

impl Worker {
    /// Delivers due mail until the process ends, waking on `wake` or every [`POLL`].
    pub async fn run(self, wake: Arc<Notify>) {
        loop {
            if let Err(e) = self.deliver_due().await {
                log::warn!("the mail worker could not read the outbox: {e}");
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    async fn deliver_due(&self) -> Result<(), db::StoreError> {
        loop {
            let now = db::now();
            let due = db::query(&self.pool, move |conn| outbox::claim_due(conn, now, CLAIM_SECS, 10)).await?;
            if due.is_empty() {
                return Ok(());
            }
            for mail in due {
                self.deliver(mail).await?;
            }
        }
    }

    async fn deliver(&self, mail: OutboxMail) -> Result<(), db::StoreError> {
        let (id, now) = (mail.id.clone(), db::now());
        let outgoing = match self.open(&mail) {
            Ok(outgoing) => outgoing,
            // Retrying cannot help: give it up at once, with the reason.
            Err(error) => {
                self.metrics.mail(MailResult::Failed);
                log::error!(mail_id = id.as_str(), error = error.as_str(); "mail given up: it cannot be sent");
                return db::query(&self.pool, move |conn| outbox::mark_failed(conn, &id, None, &error, now))
                    .await;
            }
        };
        let result = self.transport.send(&self.from, &outgoing).await;
        match result {
            Ok(()) => {
                self.metrics.mail(MailResult::Sent);
                db::query(&self.pool, move |conn| outbox::mark_sent(conn, &id, now)).await
            }
            Err(error) => {
                let retry_at = (mail.attempts < MAX_ATTEMPTS).then(|| now + self.backoff_secs(mail.attempts));
                match retry_at {
                    Some(at) => log::warn!(
                        mail_id = mail.id.as_str(), attempt = mail.attempts, retry_in_secs = at - now,
                        error = error.as_str();
                        "mail not delivered, retrying"
                    ),
                    None => {
                        self.metrics.mail(MailResult::Failed);
                        log::error!(
                            mail_id = mail.id.as_str(), attempts = mail.attempts, error = error.as_str();
                            "mail given up after its attempts"
                        );
                    }
                }
                db::query(&self.pool, move |conn| outbox::mark_failed(conn, &id, retry_at, &error, now)).await
            }
        }
    }

    /// The mail as it leaves: a bare address (as `domain::Email` parsed it) and the bodies
    /// opened. Rows queued before bodies were sealed are read as they are.
    fn open(&self, mail: &OutboxMail) -> Result<Outgoing, String> {
        let to: Address =
            mail.recipient.parse().map_err(|_| "the recipient is not a valid address".to_owned())?;
        let body = |stored: &str| -> Result<String, String> {
            if !Sealer::is_sealed(stored) {
                return Ok(stored.to_owned());
            }
            let plain = self.sealer.open(mail.id.as_bytes(), stored).map_err(|e| format!("{e:#}"))?;
            String::from_utf8(plain.expose_secret().to_vec()).map_err(|_| "a body is not UTF-8".to_owned())
        };
        Ok(Outgoing {
            to,
            subject: mail.subject.clone(),
            text: body(&mail.text_body)?,
            html: body(&mail.html_body)?,
        })
    }

    /// 1×, 4×, 16×, 64× the base after attempts 1, 2, 3, 4.
    fn backoff_secs(&self, attempts: i64) -> i64 {
        let factor = 4i64.saturating_pow(u32::try_from(attempts.saturating_sub(1)).unwrap_or(0));
        i64::try_from(self.retry_base.as_secs()).unwrap_or(30).max(1).saturating_mul(factor)
    }
}
