//! Typed settings read once from the environment (after `.env`, via dotenvy).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::keys::Alg;

mod origin;
pub use origin::{Origins, PublicUrl};

/// Everything Portcullis can be told. Built by [`Settings::from_env`] in the binary and
/// in code by the tests; nothing else reads the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub addr: SocketAddr,
    /// `None` means "http:// + the bound address", resolved once the port is known.
    pub public_url: Option<PublicUrl>,
    pub jwt_secret: Option<SecretString>,
    /// Where the key ring is kept when `jwt_secret` is unset.
    pub key_file: PathBuf,
    /// The algorithm of generated signing keys.
    pub jwt_alg: Alg,
    /// This deployment's apps on other origins (CORS, the Origin check, `next` targets).
    pub cors_origins: Origins,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub session_max: Duration,
    pub registration: Registration,
    pub password_min: usize,
    pub refresh_grace: Duration,
    /// Clock skew tolerated on `exp`/`nbf`/`iat`; SPEC §6 caps it at 30 s.
    pub clock_leeway: Duration,
    pub trusted_proxies: Vec<IpAddr>,
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
    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

/// One setting: its environment variable, its default as written in the environment, and what
/// it means. This table is the single definition behind parsing (`from_lookup`), `--help` of
/// every command (`cli_args`), and the README and `.env.example` (a test holds them to it).
pub struct Var {
    pub name: &'static str,
    /// `None` when the default is computed at startup; `help` then says how.
    pub default: Option<&'static str>,
    pub help: &'static str,
    /// Its value is never printed, not even by `--help` (which shows env values otherwise).
    pub secret: bool,
}

const fn var(name: &'static str, default: Option<&'static str>, help: &'static str) -> Var {
    Var { name, default, help, secret: false }
}

pub const VARS: &[Var] = &[
    Var {
        secret: true,
        ..var(
            "DATABASE_URL",
            Some("portcullis.db"),
            "SQLite path or sqlite://PATH; postgres://… selects PostgreSQL",
        )
    },
    var("PORTCULLIS_ADDR", Some("127.0.0.1:8080"), "listen address; port 0 picks a free port"),
    var(
        "PORTCULLIS_PUBLIC_URL",
        None,
        "origin browsers see [default: http:// + the listen address]; https:// turns on Secure, __Host- cookies and HSTS",
    ),
    Var {
        secret: true,
        ..var(
            "PORTCULLIS_JWT_SECRET",
            None,
            "HS256 with exactly these bytes (at least 32); nothing is published in the JWKS [default: generated keys in PORTCULLIS_KEY_FILE]",
        )
    },
    var(
        "PORTCULLIS_JWT_ALG",
        Some("EdDSA"),
        "algorithm of generated signing keys: EdDSA (Ed25519), ES256 or RS256",
    ),
    var("PORTCULLIS_KEY_FILE", Some("portcullis.key"), "the key ring file (mode 0600), shared by instances"),
    var("PORTCULLIS_ACCESS_TTL", Some("15m"), "access token lifetime"),
    var("PORTCULLIS_REFRESH_TTL", Some("14d"), "refresh token / idle session lifetime with \"remember me\""),
    var("PORTCULLIS_SESSION_MAX", Some("30d"), "absolute session lifetime, however often it is refreshed"),
    var(
        "PORTCULLIS_REGISTRATION",
        Some("open"),
        "open (signed in at once), verify (an emailed link activates the account) or closed (no /register)",
    ),
    var("PORTCULLIS_PASSWORD_MIN", Some("15"), "minimum password length in characters (8–256)"),
    var(
        "PORTCULLIS_REFRESH_GRACE",
        Some("10s"),
        "how long the previous refresh token still works (parallel tabs)",
    ),
    var("PORTCULLIS_CLOCK_LEEWAY", Some("30s"), "clock skew tolerated on token times (0s–30s)"),
    var(
        "PORTCULLIS_TRUSTED_PROXIES",
        None,
        "comma-separated proxy IPs whose X-Forwarded-For is believed [default: none]",
    ),
    var("PORTCULLIS_DB_POOL", None, "database connection pool size [default: 4 × cores, 4–32]"),
    var("PORTCULLIS_DB_TIMEOUT", Some("5s"), "how long a request waits for a database connection"),
    var("PORTCULLIS_THROTTLE_ACCOUNT", Some("5"), "failed sign-ins per account before a pause"),
    var("PORTCULLIS_THROTTLE_IP", Some("50"), "failed sign-ins per client IP before a pause"),
    Var {
        secret: true,
        ..var(
            "PORTCULLIS_SMTP_URL",
            None,
            "smtp://[user:pass@]host:port (STARTTLS when offered; ?tls=required to insist) or smtps://… [default: every mail is written to the log]",
        )
    },
    var(
        "PORTCULLIS_MAIL_FROM",
        None,
        "sender of every mail [default: Portcullis <no-reply@HOST>, HOST from the public URL]",
    ),
    var(
        "PORTCULLIS_CORS_ORIGINS",
        None,
        "comma-separated exact origins of this deployment's apps (https://app.example.com): they may call /api with credentials and be sent back to after sign-in [default: none]",
    ),
    var("RUST_LOG", Some("info"), "log filter (env_logger syntax)"),
];

/// The definition of `name`; every name the parser reads is in [`VARS`].
fn default_of(name: &str) -> Option<&'static str> {
    VARS.iter().find(|v| v.name == name).and_then(|v| v.default)
}

/// The settings as global command-line arguments, each also read from its environment
/// variable, for `--help` of every command (clap shows the variable and the default).
pub fn cli_args() -> Vec<clap::Arg> {
    VARS.iter()
        .filter(|v| v.name != "RUST_LOG")
        .map(|v| {
            let long = v.name.trim_start_matches("PORTCULLIS_").to_ascii_lowercase().replace('_', "-");
            let mut arg = clap::Arg::new(v.name)
                .long(long)
                .env(v.name)
                .value_name("VALUE")
                .help(v.help)
                .global(true)
                .help_heading("Settings (environment variables; an empty value means unset)")
                .hide_env_values(v.secret);
            if let Some(default) = v.default {
                arg = arg.default_value(default);
            }
            arg
        })
        .collect()
}

/// A configuration problem, phrased as the one line an operator sees before exit.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl Settings {
    /// The defaults of [`VARS`], with an explicit database URL. Used by tests.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        let database_url = database_url.into();
        Self::from_lookup(|name| (name == "DATABASE_URL").then(|| database_url.clone()))
            .unwrap_or_else(|e| unreachable!("the documented defaults parse: {e}"))
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup` (the environment, or clap's matches), an empty
    /// value counting as unset, and falls back to the defaults of [`VARS`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name).filter(|v| !v.trim().is_empty()).or_else(|| default_of(name).map(str::to_owned))
        };
        let mut s = Self {
            database_url: get("DATABASE_URL").unwrap_or_default(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            jwt_secret: None,
            key_file: PathBuf::new(),
            jwt_alg: Alg::EdDSA,
            cors_origins: Origins::default(),
            access_ttl: Duration::ZERO,
            refresh_ttl: Duration::ZERO,
            session_max: Duration::ZERO,
            registration: Registration::Open,
            password_min: 0,
            refresh_grace: Duration::ZERO,
            clock_leeway: Duration::ZERO,
            trusted_proxies: Vec::new(),
            db_pool: default_pool_size(),
            db_timeout: Duration::ZERO,
            throttle_account: 0,
            throttle_ip: 0,
            smtp_url: None,
            mail_from: None,
            reset_ttl: Duration::from_secs(30 * 60),
            mail_retry: Duration::from_secs(30),
            hash_queue: cores() * 32,
            purge_every: Duration::from_secs(10 * 60),
            key_reload: Duration::from_secs(60),
        };
        if let Some(v) = get("PORTCULLIS_ADDR") {
            s.addr = v
                .trim()
                .parse()
                .map_err(|_| invalid("PORTCULLIS_ADDR", "expected HOST:PORT such as 127.0.0.1:8080"))?;
        }
        if let Some(v) = get("PORTCULLIS_PUBLIC_URL") {
            s.public_url = Some(PublicUrl::parse(&v).map_err(|r| invalid("PORTCULLIS_PUBLIC_URL", r))?);
        }
        if let Some(v) = get("PORTCULLIS_JWT_SECRET") {
            if v.len() < 32 {
                return Err(invalid("PORTCULLIS_JWT_SECRET", "must be at least 32 bytes"));
            }
            s.jwt_secret = Some(SecretString::from(v));
        }
        if let Some(v) = get("PORTCULLIS_KEY_FILE") {
            s.key_file = PathBuf::from(v);
        }
        if let Some(v) = get("PORTCULLIS_JWT_ALG") {
            s.jwt_alg = Alg::parse(&v)
                .ok_or_else(|| invalid("PORTCULLIS_JWT_ALG", "expected EdDSA, ES256 or RS256"))?;
        }
        if let Some(v) = get("PORTCULLIS_CORS_ORIGINS") {
            s.cors_origins = Origins::parse(&v).map_err(|r| invalid("PORTCULLIS_CORS_ORIGINS", r))?;
        }
        duration(&get, "PORTCULLIS_ACCESS_TTL", &mut s.access_ttl)?;
        duration(&get, "PORTCULLIS_REFRESH_TTL", &mut s.refresh_ttl)?;
        duration(&get, "PORTCULLIS_SESSION_MAX", &mut s.session_max)?;
        duration(&get, "PORTCULLIS_REFRESH_GRACE", &mut s.refresh_grace)?;
        duration(&get, "PORTCULLIS_DB_TIMEOUT", &mut s.db_timeout)?;
        if let Some(v) = get("PORTCULLIS_CLOCK_LEEWAY") {
            s.clock_leeway = humantime::parse_duration(v.trim())
                .ok()
                .filter(|d| *d <= Duration::from_secs(30))
                .ok_or_else(|| invalid("PORTCULLIS_CLOCK_LEEWAY", "expected a duration from 0s to 30s"))?;
        }
        if let Some(v) = get("PORTCULLIS_REGISTRATION") {
            s.registration = match v.trim() {
                "open" => Registration::Open,
                "verify" => Registration::Verify,
                "closed" => Registration::Closed,
                _ => {
                    return Err(invalid("PORTCULLIS_REGISTRATION", "expected open, verify or closed"));
                }
            };
        }
        if let Some(v) = get("PORTCULLIS_PASSWORD_MIN") {
            s.password_min =
                v.trim().parse().ok().filter(|n| (8..=256).contains(n)).ok_or_else(|| {
                    invalid("PORTCULLIS_PASSWORD_MIN", "expected a whole number from 8 to 256")
                })?;
        }
        if let Some(v) = get("PORTCULLIS_TRUSTED_PROXIES") {
            s.trusted_proxies =
                v.split(',').map(|p| p.trim().parse()).collect::<Result<_, _>>().map_err(|_| {
                    invalid("PORTCULLIS_TRUSTED_PROXIES", "expected comma-separated IP addresses")
                })?;
        }
        if let Some(v) = get("PORTCULLIS_DB_POOL") {
            s.db_pool = v
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=512).contains(n))
                .ok_or_else(|| invalid("PORTCULLIS_DB_POOL", "expected a whole number from 1 to 512"))?;
        }
        if let Some(v) = get("PORTCULLIS_THROTTLE_ACCOUNT") {
            s.throttle_account = count(&v, "PORTCULLIS_THROTTLE_ACCOUNT")?;
        }
        if let Some(v) = get("PORTCULLIS_THROTTLE_IP") {
            s.throttle_ip = count(&v, "PORTCULLIS_THROTTLE_IP")?;
        }
        if let Some(v) = get("PORTCULLIS_SMTP_URL") {
            check_smtp_url(v.trim()).map_err(|r| invalid("PORTCULLIS_SMTP_URL", r))?;
            s.smtp_url = Some(SecretString::from(v.trim().to_owned()));
        }
        if let Some(v) = get("PORTCULLIS_MAIL_FROM") {
            v.trim().parse::<lettre::message::Mailbox>().map_err(|_| {
                invalid(
                    "PORTCULLIS_MAIL_FROM",
                    "expected an address such as Portcullis <no-reply@example.com>",
                )
            })?;
            s.mail_from = Some(v.trim().to_owned());
        }
        s.check_lifetimes()?;
        Ok(s)
    }

    fn check_lifetimes(&self) -> Result<(), ConfigError> {
        if self.access_ttl > self.refresh_ttl {
            return Err(invalid("PORTCULLIS_ACCESS_TTL", "must not be longer than PORTCULLIS_REFRESH_TTL"));
        }
        if self.refresh_ttl > self.session_max {
            return Err(invalid("PORTCULLIS_REFRESH_TTL", "must not be longer than PORTCULLIS_SESSION_MAX"));
        }
        Ok(())
    }
}

/// `smtp://` or `smtps://`, a host, and nothing lettre would refuse later. The reason never
/// repeats the URL: it may hold a password.
fn check_smtp_url(url: &str) -> Result<(), &'static str> {
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err("expected smtp://[user:pass@]host:port or smtps://…");
    }
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
        .map(drop)
        .map_err(|_| "not a valid SMTP URL (smtp://[user:pass@]host:port[?tls=required] or smtps://…)")
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { name, reason: reason.into() }
}

fn count(raw: &str, name: &'static str) -> Result<i64, ConfigError> {
    raw.trim()
        .parse()
        .ok()
        .filter(|n| (1..=1_000_000).contains(n))
        .ok_or_else(|| invalid(name, "expected a whole number from 1 to 1000000"))
}

fn duration(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    slot: &mut Duration,
) -> Result<(), ConfigError> {
    if let Some(v) = get(name) {
        let parsed = humantime::parse_duration(v.trim())
            .map_err(|_| invalid(name, "expected a duration such as 30s, 15m or 14d"))?;
        if parsed.is_zero() {
            return Err(invalid(name, "must be longer than zero"));
        }
        *slot = parsed;
    }
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn default_pool_size() -> u32 {
    u32::try_from(cores() * 4).unwrap_or(16).clamp(4, 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let owned: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| owned.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn no_configuration_gives_the_documented_defaults() {
        let s = from(&[]).unwrap();
        assert_eq!(s.database_url, "portcullis.db");
        assert_eq!(s.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.access_ttl, Duration::from_secs(900));
        assert_eq!(s.refresh_ttl, Duration::from_secs(14 * 86_400));
        assert_eq!(s.password_min, 15);
        assert_eq!(s.registration, Registration::Open);
        assert!(s.jwt_secret.is_none());
    }

    #[test]
    fn durations_accept_seconds_minutes_and_days() {
        let s = from(&[("PORTCULLIS_ACCESS_TTL", "30s"), ("PORTCULLIS_REFRESH_TTL", "2d")]).unwrap();
        assert_eq!(s.access_ttl, Duration::from_secs(30));
        assert_eq!(s.refresh_ttl, Duration::from_secs(2 * 86_400));
    }

    #[test]
    fn every_invalid_value_names_its_variable() {
        for (name, value) in [
            ("PORTCULLIS_ADDR", "nowhere"),
            ("PORTCULLIS_PUBLIC_URL", "ftp://x"),
            ("PORTCULLIS_JWT_SECRET", "short"),
            ("PORTCULLIS_ACCESS_TTL", "soon"),
            ("PORTCULLIS_REGISTRATION", "maybe"),
            ("PORTCULLIS_PASSWORD_MIN", "-1"),
            ("PORTCULLIS_TRUSTED_PROXIES", "10.0.0.1,bogus"),
            ("PORTCULLIS_DB_POOL", "0"),
            ("PORTCULLIS_CLOCK_LEEWAY", "5m"),
            ("PORTCULLIS_THROTTLE_ACCOUNT", "0"),
            ("PORTCULLIS_THROTTLE_IP", "many"),
            ("PORTCULLIS_SMTP_URL", "http://mail.example.com"),
            ("PORTCULLIS_MAIL_FROM", "not an address"),
            ("PORTCULLIS_JWT_ALG", "HS256"),
            ("PORTCULLIS_CORS_ORIGINS", "app.example.com"),
        ] {
            let err = from(&[(name, value)]).unwrap_err();
            assert_eq!(err.name, name);
            assert!(err.to_string().starts_with(&format!("invalid {name}:")));
        }
    }

    #[test]
    fn the_secret_never_shows_in_debug_output() {
        let s = from(&[("PORTCULLIS_JWT_SECRET", "a-very-long-secret-that-is-over-32-bytes")]).unwrap();
        assert!(!format!("{s:?}").contains("a-very-long-secret"));
    }

    #[test]
    fn an_empty_value_means_unset_for_every_variable() {
        let empty: Vec<(&str, &str)> = VARS.iter().map(|v| (v.name, "")).collect();
        let s = from(&empty).unwrap();
        assert_eq!(s.database_url, "portcullis.db");
        assert!(s.jwt_secret.is_none());
        assert_eq!(s.access_ttl, Duration::from_secs(900));
    }

    /// README and `.env.example` state what `VARS` says, so none of the three can drift.
    #[test]
    fn readme_and_env_example_state_every_variable_with_its_default() {
        let root = env!("CARGO_MANIFEST_DIR");
        let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
        let example = std::fs::read_to_string(format!("{root}/.env.example")).unwrap();
        for v in VARS {
            let row = readme.lines().find(|l| l.starts_with(&format!("| `{}` |", v.name)));
            let row = row.unwrap_or_else(|| panic!("README has no row for {}", v.name));
            let line = example.lines().find(|l| l.starts_with(&format!("# {}=", v.name)));
            let line = line.unwrap_or_else(|| panic!(".env.example has no line for {}", v.name));
            if let Some(default) = v.default {
                assert!(row.contains(&format!("`{default}`")), "README: {} default {default}: {row}", v.name);
                assert!(line.starts_with(&format!("# {}={default}", v.name)), ".env.example: {line}");
            } else {
                assert!(line.split_whitespace().next_back().is_some(), "{line}");
                assert!(line.starts_with(&format!("# {}= ", v.name)), ".env.example sets no value: {line}");
            }
        }
    }
}
