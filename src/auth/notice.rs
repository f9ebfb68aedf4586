//! Security notices: a mail telling an account's owner what just happened to it (a new
//! sign-in, a changed password, a factor added or removed), queued like every mail.

use crate::auth::tokens::random_id;
use crate::db::{self, Pool, outbox};
use crate::mail::{Composed, Mail};

/// What queueing a notice needs: the database (its outbox) and the mail settings.
#[derive(Clone, Copy)]
pub struct Mailer<'a> {
    pub pool: &'a Pool,
    pub mail: &'a Mail,
}

/// Queues a security notice. A failure is logged: the action it reports has happened.
pub async fn notify(pool: &Pool, mail: &Mail, composed: anyhow::Result<Composed>) {
    let queued = match composed.and_then(|composed| mail.outbox_row(composed, random_id(), db::now())) {
        Ok(row) => {
            db::query(pool, move |conn| outbox::enqueue(conn, &row)).await.map_err(anyhow::Error::from)
        }
        Err(e) => Err(e),
    };
    match queued {
        Ok(()) => mail.queued(),
        Err(e) => log::error!(error:% = format!("{e:#}"); "could not queue a security notice"),
    }
}
