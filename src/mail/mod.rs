//! Mail: what Portcullis sends (`compose.rs`, from the templates under `templates/mail/`), how
//! (`transport.rs`: SMTP through lettre, or the log), and when (`worker.rs`: the outbox worker —
//! mail is stored in the database with the token it carries, never sent while a request waits).

pub mod compose;
pub mod transport;
pub mod worker;

use std::sync::Arc;

use lettre::message::Mailbox;
use tokio::sync::Notify;

use crate::config::{PublicUrl, Settings};
use crate::db::outbox::OutboxMail;

/// What composing and queueing a mail needs: the sender, the public origin links are built on,
/// and a bell that wakes this instance's worker when a mail is queued.
#[derive(Clone)]
pub struct Mail {
    pub from: Mailbox,
    pub public_url: PublicUrl,
    pub wake: Arc<Notify>,
}

impl Mail {
    /// `PORTCULLIS_MAIL_FROM`, else `Portcullis <no-reply@HOST>` with the public URL's host name
    /// (`localhost` when it is an IP address).
    pub fn new(settings: &Settings, public_url: &PublicUrl) -> anyhow::Result<Self> {
        let from = match &settings.mail_from {
            Some(from) => from.parse()?,
            None => format!("Portcullis <no-reply@{}>", public_url.mail_host()).parse()?,
        };
        Ok(Self { from, public_url: public_url.clone(), wake: Arc::new(Notify::new()) })
    }

    /// An absolute link to `path` on the public origin.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url.as_str())
    }

    /// Tells this instance's worker that a mail is waiting (others find it on their next poll).
    pub fn queued(&self) {
        self.wake.notify_one();
    }
}

/// A composed mail, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Composed {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Composed {
    /// The outbox row for this mail, due at once.
    pub fn into_outbox(self, id: String, now: i64) -> OutboxMail {
        OutboxMail {
            id,
            recipient: self.to,
            subject: self.subject,
            text_body: self.text,
            html_body: self.html,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
        }
    }
}
