//! Secrets typed at the command line: a password or a client secret, one line from stdin when it
//! is not a terminal (scripts), a prompt when it is.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use secrecy::SecretString;

/// A new password: on a terminal asked twice, to catch a typo.
pub fn read_password() -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
        let second = rpassword::prompt_password("Repeat password: ").context("cannot read the password")?;
        if first != second {
            bail!("the two passwords do not match");
        }
        return Ok(SecretString::from(first));
    }
    stdin_line("password")
}

/// A secret someone else made (a provider's client secret): asked once.
pub fn read_secret(what: &str) -> anyhow::Result<SecretString> {
    if std::io::stdin().is_terminal() {
        let secret = rpassword::prompt_password(format!("{what}: "))
            .with_context(|| format!("cannot read the {what}"))?;
        return Ok(SecretString::from(secret));
    }
    stdin_line(what)
}

fn stdin_line(what: &str) -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .with_context(|| format!("cannot read the {what} from stdin"))?;
    let value = line.strip_suffix('\n').unwrap_or(&line);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        bail!("no {what} given on stdin");
    }
    Ok(SecretString::from(value.to_owned()))
}
