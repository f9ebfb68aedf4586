//! The mails Portcullis sends, each a plain-text and an HTML part from Askama templates under
//! `templates/mail/`, with absolute links on `PORTCULLIS_PUBLIC_URL`.

use askama::Template;

use super::{Composed, Mail};

#[derive(Template)]
#[template(path = "mail/reset_password.txt")]
struct ResetText<'a> {
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/reset_password.html")]
struct ResetHtml<'a> {
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "mail/password_changed.txt")]
struct ChangedText<'a> {
    how: &'a str,
    forgot: &'a str,
}

#[derive(Template)]
#[template(path = "mail/password_changed.html")]
struct ChangedHtml<'a> {
    how: &'a str,
    forgot: &'a str,
}

/// A link to choose a new password; `token` is the raw single-use token.
pub fn reset_password(mail: &Mail, to: &str, token: &str, minutes: i64) -> anyhow::Result<Composed> {
    let link = mail.link(&format!("/reset-password?token={token}"));
    Ok(Composed {
        to: to.to_owned(),
        subject: "Reset your Portcullis password".to_owned(),
        text: ResetText { link: &link, minutes }.render()?,
        html: ResetHtml { link: &link, minutes }.render()?,
    })
}

/// A notice that the password changed; `how` says how ("with a reset link", …).
pub fn password_changed(mail: &Mail, to: &str, how: &str) -> anyhow::Result<Composed> {
    let forgot = mail.link("/forgot-password");
    Ok(Composed {
        to: to.to_owned(),
        subject: "Your Portcullis password was changed".to_owned(),
        text: ChangedText { how, forgot: &forgot }.render()?,
        html: ChangedHtml { how, forgot: &forgot }.render()?,
    })
}
