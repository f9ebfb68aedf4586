//! Typed settings read once from the environment (after `.env`, via dotenvy).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::keys::Alg;

mod origin;
mod parse;
mod vars;
pub use origin::{Origins, PublicUrl};
pub use vars::{VARS, Var, cli_args};

/// Everything Portcullis can be told. Built by [`Settings::from_env`] (the binary, a host
/// app) or in code (tests); nothing else reads the environment. The fields that say so are
/// not read from the environment: tuning for tests and benchmarks.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`: a SQLite path (or `sqlite://PATH`), or `postgres://…`.
    pub database_url: String,
    /// `PORTCULLIS_ADDR`: the listen address; port 0 picks a free port.
    pub addr: SocketAddr,
    /// `None` means "http:// + the bound address", resolved once the port is known.
    pub public_url: Option<PublicUrl>,
    /// `PORTCULLIS_JWT_SECRET`: HS256 with exactly these bytes (at least 32); `None` uses the
    /// key file's generated keys.
    pub jwt_secret: Option<SecretString>,
    /// Where the key ring is kept when `jwt_secret` is unset.
    pub key_file: PathBuf,
    /// The algorithm of generated signing keys.
    pub jwt_alg: Alg,
    /// This deployment's apps on other origins (CORS, the Origin check, `next` targets).
    pub cors_origins: Origins,
    /// `PORTCULLIS_ACCESS_TTL`: access token lifetime.
    pub access_ttl: Duration,
    /// `PORTCULLIS_REFRESH_TTL`: refresh token and idle session lifetime ("remember me").
    pub refresh_ttl: Duration,
    /// `PORTCULLIS_SESSION_MAX`: absolute session lifetime.
    pub session_max: Duration,
    /// `PORTCULLIS_REGISTRATION`: who may create an account.
    pub registration: Registration,
    /// `PORTCULLIS_PASSWORD_MIN`: minimum password length in characters.
    pub password_min: usize,
    /// `PORTCULLIS_REFRESH_GRACE`: how long the previous refresh token still yields a pair.
    pub refresh_grace: Duration,
    /// Clock skew tolerated on `exp`/`nbf`/`iat`; SPEC §6 caps it at 30 s.
    pub clock_leeway: Duration,
    /// `PORTCULLIS_TRUSTED_PROXIES`: proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// `PORTCULLIS_METRICS_ADDR`: the second listener, for `/metrics` only.
    pub metrics_addr: Option<SocketAddr>,
    /// `PORTCULLIS_LOG_FORMAT`: text or JSON lines.
    pub log_format: LogFormat,
    /// `PORTCULLIS_DB_POOL`: database connection pool size.
    pub db_pool: u32,
    /// How long a request waits for a database connection (and a connection attempt lasts).
    pub db_timeout: Duration,
    /// Failed sign-ins allowed per account before back-off starts.
    pub throttle_account: i64,
    /// Failed sign-ins allowed per client IP before back-off starts.
    pub throttle_ip: i64,
    /// Where mail goes: `None` writes every mail to the log (development).
    pub smtp_url: Option<SecretString>,
    /// The sender of every mail; `None` means `Portcullis <no-reply@HOST>` of the public URL.
    pub mail_from: Option<String>,
    /// Not read from the environment: how long a password-reset link works (30 minutes).
    pub reset_ttl: Duration,
    /// Not read from the environment: the first wait before a failed mail is tried again.
    pub mail_retry: Duration,
    /// Not read from the environment (tuning for tests and benchmarks): how many password
    /// hashes may wait or run at once before sign-ins are answered 503.
    pub hash_queue: usize,
    /// Not read from the environment: how often a running instance rereads the key file
    /// at the latest (60 s; tests make it shorter).
    pub key_reload: Duration,
    /// Not read from the environment: how often expired sessions and stale throttle
    /// counters are purged.
    pub purge_every: Duration,
}

/// Who may create an account at `/register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Anyone; signed in at once (a verification mail follows).
    Open,
    /// Anyone; the account works once the emailed link is confirmed.
    Verify,
    /// Nobody: `/register` is 404; accounts come from the CLI.
    Closed,
}

impl Registration {
    /// Whether `/register` exists (`open` or `verify`).
    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

/// How log lines are written (`PORTCULLIS_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// env_logger's lines, for a person at a terminal or journald.
    Text,
    /// One JSON object per line, for a log pipeline.
    Json,
}

impl LogFormat {
    /// `text` or `json`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// A configuration problem, phrased as the one line an operator sees before exit.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with its value.
    pub reason: String,
}

impl Settings {
    /// How long a retired signing key keeps verifying after a rotation, in seconds: one reload
    /// interval, one access lifetime and the clock leeway.
    pub fn key_overlap_secs(&self) -> i64 {
        let whole =
            |d: Duration| i64::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i64::MAX);
        crate::keys::retire_overlap(whole(self.access_ttl), whole(self.key_reload), whole(self.clock_leeway))
    }

    /// `PORTCULLIS_PUBLIC_URL`, or `http://` and the bound address when it is unset (a local
    /// run): every token's issuer and every link's base.
    pub(crate) fn effective_public_url(&self) -> Result<PublicUrl, String> {
        match &self.public_url {
            Some(url) => Ok(url.clone()),
            None => PublicUrl::parse(&format!("http://{}", self.addr)),
        }
    }

    /// The algorithms the key ring keeps an active key for: the access tokens'
    /// (`PORTCULLIS_JWT_ALG`) first, then the others an OpenID Connect client may have its ID
    /// tokens signed with (RS256 by default, ES256 or EdDSA on request; SPEC §11).
    pub(crate) fn signing_algs(&self) -> Vec<crate::keys::Alg> {
        use crate::keys::Alg;
        let mut algs = vec![self.jwt_alg];
        algs.extend([Alg::RS256, Alg::EdDSA, Alg::ES256].into_iter().filter(|a| *a != self.jwt_alg));
        algs
    }

    /// The defaults of [`VARS`], with an explicit database URL. Used by tests.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        Self::from_lookup(|name| (name == "DATABASE_URL").then(|| database_url.clone()))
            .unwrap_or_else(|e| unreachable!("the documented defaults parse: {e}"))
    }

    /// Reads the environment (call `dotenvy::dotenv()` first for a `.env` file): every
    /// variable of [`VARS`], invalid values refused with the variable's name.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests;
