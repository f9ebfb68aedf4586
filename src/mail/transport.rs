//! How a mail leaves: SMTP (lettre: plain to a local relay, STARTTLS, implicit TLS, AUTH from the
//! URL) or, without `PORTCULLIS_SMTP_URL`, the log (development only).

use std::time::Duration;

use lettre::Address;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

/// A mail as it leaves: its bodies opened, its recipient a parsed address.
pub struct Outgoing {
    pub to: Address,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// How long one SMTP conversation may take before it counts as failed (and is retried).
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Writes each mail to the log: a developer trying Portcullis can still follow a link.
    Log,
}

/// `smtp://` without a `tls=` parameter means STARTTLS when the server offers it (SPEC §3);
/// lettre's own default there is no TLS at all.
fn with_opportunistic_tls(url: &str) -> String {
    if !url.starts_with("smtp://") || url.contains("tls=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}tls=opportunistic")
}

impl Transport {
    pub fn new(smtp_url: Option<&SecretString>) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let url = with_opportunistic_tls(url.expose_secret());
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
                    .map_err(|_| anyhow::anyhow!("PORTCULLIS_SMTP_URL is not a valid SMTP URL"))?;
                Ok(Self::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build()))
            }
            None => {
                log::warn!(
                    "PORTCULLIS_SMTP_URL is not set: mails are written to this log instead of being sent"
                );
                Ok(Self::Log)
            }
        }
    }

    /// Sends one mail; the error is a sentence for the log and the outbox row.
    pub async fn send(&self, from: &Mailbox, mail: &Outgoing) -> Result<(), String> {
        // The bare address, parsed as when it came in (`domain::Email`), never a display name.
        let to = Mailbox::new(None, mail.to.clone());
        match self {
            Self::Smtp(smtp) => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject.as_str())
                    .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
                    .map_err(|e| format!("cannot build the message: {e}"))?;
                smtp.send(message).await.map(drop).map_err(|e| format!("SMTP: {e}"))
            }
            Self::Log => {
                log::info!(to = to.to_string().as_str(), subject = mail.subject.as_str(), body = mail.text.as_str(); "mail written to the log instead of being sent");
                Ok(())
            }
        }
    }
}
