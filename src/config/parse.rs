//! Reading the settings: every variable through one lookup (the environment, or clap's
//! matches), an empty value counting as unset, invalid values refused naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::vars::default_of;
use super::{ConfigError, LogFormat, Origins, PublicUrl, Registration, Settings};
use crate::keys::Alg;

impl Settings {
    /// Reads every variable through `lookup` (the environment, or clap's matches), an empty
    /// value counting as unset, and falls back to the defaults of [`VARS`](super::VARS).
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
            metrics_addr: None,
            log_format: LogFormat::Text,
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
        if let Some(v) = get("PORTCULLIS_METRICS_ADDR") {
            s.metrics_addr = Some(v.trim().parse().map_err(|_| {
                invalid("PORTCULLIS_METRICS_ADDR", "expected HOST:PORT such as 127.0.0.1:9090")
            })?);
        }
        if let Some(v) = get("PORTCULLIS_LOG_FORMAT") {
            s.log_format = LogFormat::parse(&v)
                .ok_or_else(|| invalid("PORTCULLIS_LOG_FORMAT", "expected text or json"))?;
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
