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
use crate::keys::{MasterKey, Sealer};

/// What composing and queueing a mail needs: the sender, the public origin links are built on,
/// the key queued bodies are sealed with, and a bell that wakes this instance's worker when a
/// mail is queued.
#[derive(Clone)]
pub struct Mail {
    pub from: Mailbox,
    pub public_url: PublicUrl,
    pub wake: Arc<Notify>,
    /// Queued bodies hold working links (SPEC §4: tokens are stored only as hashes), so they
    /// are sealed: a database dump or backup alone yields no link.
    pub sealer: Arc<Sealer>,
}

impl Mail {
    /// `PORTCULLIS_MAIL_FROM`, else `Portcullis <no-reply@HOST>` with the public URL's host name
    /// (`localhost` when it is an IP address).
    pub fn new(settings: &Settings, public_url: &PublicUrl, master: &MasterKey) -> anyhow::Result<Self> {
        let from = match &settings.mail_from {
            Some(from) => from.parse()?,
            None => format!("Portcullis <no-reply@{}>", public_url.mail_host()).parse()?,
        };
        Ok(Self {
            from,
            public_url: public_url.clone(),
            wake: Arc::new(Notify::new()),
            sealer: Arc::new(Sealer::new(master.derive(OUTBOX_KEY_PURPOSE))),
        })
    }

    /// The outbox row for a composed mail, due at once, its bodies sealed with its id as the row.
    pub fn outbox_row(&self, composed: Composed, id: String, now: i64) -> anyhow::Result<OutboxMail> {
        Ok(OutboxMail {
            recipient: composed.to,
            subject: composed.subject,
            text_body: self.sealer.seal(id.as_bytes(), composed.text.as_bytes())?,
            html_body: self.sealer.seal(id.as_bytes(), composed.html.as_bytes())?,
            id,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
        })
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

/// The purpose the outbox sealing key is derived for (the worker opens with the same).
pub const OUTBOX_KEY_PURPOSE: &str = "portcullis outbox v1";

/// A composed mail, ready for the outbox.
#[derive(Debug, Clone)]
pub struct Composed {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}
