//! Typed settings read once from the environment (after `.env`, via dotenvy).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

/// Everything Portcullis can be told. Built by [`Settings::from_env`] in the binary and
/// in code by the tests; nothing else reads the environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub addr: SocketAddr,
    /// `None` means "http:// + the bound address", resolved once the port is known.
    pub public_url: Option<PublicUrl>,
    pub jwt_secret: Option<SecretString>,
    /// Where a generated signing key is kept when `jwt_secret` is unset.
    pub key_file: PathBuf,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub session_max: Duration,
    pub registration_open: bool,
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
}

/// The origin browsers see: scheme, host and optional port, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim().trim_end_matches('/');
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .ok_or("must start with http:// or https://")?;
        if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '@']) {
            return Err("must be an origin such as https://auth.example.com (no path)".into());
        }
        Ok(Self(trimmed.to_ascii_lowercase()))
    }

    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A configuration problem, phrased as the one line an operator sees before exit.
#[derive(Debug, thiserror::Error)]
#[error("invalid {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

impl Settings {
    /// The defaults of SPEC §3, with an explicit database URL. Used by tests.
    pub fn with_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            jwt_secret: None,
            key_file: PathBuf::from("portcullis.key"),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(14 * 86_400),
            session_max: Duration::from_secs(30 * 86_400),
            registration_open: true,
            password_min: 15,
            refresh_grace: Duration::from_secs(10),
            clock_leeway: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            db_pool: default_pool_size(),
            db_timeout: Duration::from_secs(5),
            throttle_account: 5,
            throttle_ip: 50,
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every variable through `lookup`, so parsing is testable without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut s = Self::with_database(get("DATABASE_URL").unwrap_or_else(|| "portcullis.db".into()));
        if let Some(v) = get("PORTCULLIS_ADDR") {
            s.addr = v
                .trim()
                .parse()
                .map_err(|_| invalid("PORTCULLIS_ADDR", "expected HOST:PORT such as 127.0.0.1:8080"))?;
        }
        if let Some(v) = get("PORTCULLIS_PUBLIC_URL") {
            s.public_url = Some(PublicUrl::parse(&v).map_err(|r| invalid("PORTCULLIS_PUBLIC_URL", r))?);
        }
        if let Some(v) = lookup("PORTCULLIS_JWT_SECRET") {
            if v.len() < 32 {
                return Err(invalid("PORTCULLIS_JWT_SECRET", "must be at least 32 bytes"));
            }
            s.jwt_secret = Some(SecretString::from(v));
        }
        if let Some(v) = get("PORTCULLIS_KEY_FILE") {
            s.key_file = PathBuf::from(v);
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
            s.registration_open = match v.trim() {
                "open" => true,
                "closed" => false,
                _ => {
                    return Err(invalid("PORTCULLIS_REGISTRATION", "expected open or closed"));
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

fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 4).unwrap_or(16).clamp(4, 32)
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
        assert!(s.registration_open);
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
    fn public_url_must_be_an_origin() {
        assert!(PublicUrl::parse("https://auth.example.com/").unwrap().is_https());
        assert!(PublicUrl::parse("https://auth.example.com/login").is_err());
        assert!(PublicUrl::parse("auth.example.com").is_err());
    }
}
