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

#[derive(Template)]
#[template(path = "mail/factor_changed.txt")]
struct FactorText<'a> {
    what: &'a str,
    account: &'a str,
}

#[derive(Template)]
#[template(path = "mail/factor_changed.html")]
struct FactorHtml<'a> {
    what: &'a str,
    account: &'a str,
}

/// A notice that the account's second factors changed; `what` is the sentence that says how.
pub fn factor_changed(mail: &Mail, to: &str, what: &str) -> anyhow::Result<Composed> {
    let account = mail.link("/account/2fa");
    Ok(Composed {
        to: to.to_owned(),
        subject: "Your Portcullis sign-in settings changed".to_owned(),
        text: FactorText { what, account: &account }.render()?,
        html: FactorHtml { what, account: &account }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyHtml<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/registration_attempt.txt")]
struct AttemptText<'a> {
    sign_in: &'a str,
    forgot: &'a str,
}

#[derive(Template)]
#[template(path = "mail/registration_attempt.html")]
struct AttemptHtml<'a> {
    sign_in: &'a str,
    forgot: &'a str,
}

/// A link that confirms this address belongs to the account.
pub fn verify_email(mail: &Mail, to: &str, token: &str) -> anyhow::Result<Composed> {
    let link = mail.link(&format!("/verify-email?token={token}"));
    Ok(Composed {
        to: to.to_owned(),
        subject: "Confirm your email address for Portcullis".to_owned(),
        text: VerifyText { link: &link }.render()?,
        html: VerifyHtml { link: &link }.render()?,
    })
}

/// To the owner of an address someone tried to register again: nothing changed for them.
pub fn registration_attempt(mail: &Mail, to: &str) -> anyhow::Result<Composed> {
    let (sign_in, forgot) = (mail.link("/login"), mail.link("/forgot-password"));
    Ok(Composed {
        to: to.to_owned(),
        subject: "Someone tried to create a Portcullis account with your address".to_owned(),
        text: AttemptText { sign_in: &sign_in, forgot: &forgot }.render()?,
        html: AttemptHtml { sign_in: &sign_in, forgot: &forgot }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/new_sign_in.txt")]
struct NewSignInText<'a> {
    ip: &'a str,
    agent: &'a str,
    account: &'a str,
    forgot: &'a str,
}

#[derive(Template)]
#[template(path = "mail/new_sign_in.html")]
struct NewSignInHtml<'a> {
    ip: &'a str,
    agent: &'a str,
    account: &'a str,
    forgot: &'a str,
}

/// A sign-in from a browser that had not signed in to this account before.
pub fn new_sign_in(mail: &Mail, to: &str, ip: &str, user_agent: &str) -> anyhow::Result<Composed> {
    let (account, forgot) = (mail.link("/account"), mail.link("/forgot-password"));
    let agent: String = user_agent.chars().take(120).collect();
    let agent = if agent.is_empty() { "an unknown browser".to_owned() } else { agent };
    let ip = if ip.is_empty() { "an unknown address" } else { ip };
    let (account, forgot) = (account.as_str(), forgot.as_str());
    Ok(Composed {
        to: to.to_owned(),
        subject: "A new sign-in to your Portcullis account".to_owned(),
        text: NewSignInText { ip, agent: &agent, account, forgot }.render()?,
        html: NewSignInHtml { ip, agent: &agent, account, forgot }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/change_email.txt")]
struct ChangeText<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/change_email.html")]
struct ChangeHtml<'a> {
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_change_requested.txt")]
struct ChangeRequestedText<'a> {
    new_email: &'a str,
    forgot: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_change_requested.html")]
struct ChangeRequestedHtml<'a> {
    new_email: &'a str,
    forgot: &'a str,
}

/// To the new address: the link whose confirm form moves the account to it.
pub fn change_email(mail: &Mail, to: &str, token: &str) -> anyhow::Result<Composed> {
    let link = mail.link(&format!("/verify-email?token={token}"));
    Ok(Composed {
        to: to.to_owned(),
        subject: "Confirm your new email address for Portcullis".to_owned(),
        text: ChangeText { link: &link }.render()?,
        html: ChangeHtml { link: &link }.render()?,
    })
}

/// To the old address: someone asked to move the account elsewhere.
pub fn email_change_requested(mail: &Mail, to: &str, new_email: &str) -> anyhow::Result<Composed> {
    let forgot = mail.link("/forgot-password");
    Ok(Composed {
        to: to.to_owned(),
        subject: "A change of your Portcullis email address was requested".to_owned(),
        text: ChangeRequestedText { new_email, forgot: &forgot }.render()?,
        html: ChangeRequestedHtml { new_email, forgot: &forgot }.render()?,
    })
}

/// A notice that the person let an app sign them in (SPEC §11): where to revoke it.
pub fn app_authorized(mail: &Mail, to: &str, app: &str) -> anyhow::Result<Composed> {
    let account = mail.link("/account#apps");
    let what = format!("You allowed the app \u{201c}{app}\u{201d} to sign you in with your account.");
    Ok(Composed {
        to: to.to_owned(),
        subject: "An app can now sign you in with Portcullis".to_owned(),
        text: FactorText { what: &what, account: &account }.render()?,
        html: FactorHtml { what: &what, account: &account }.render()?,
    })
}
