//! The table of settings: each environment variable, its default and its meaning. One
//! definition behind parsing, `--help` of every command, README and `.env.example`.

/// One setting: its environment variable, its default as written in the environment, and what
/// it means. This table is the single definition behind parsing (`from_lookup`), `--help` of
/// every command (`cli_args`), and the README and `.env.example` (a test holds them to it).
pub struct Var {
    /// The environment variable.
    pub name: &'static str,
    /// `None` when the default is computed at startup; `help` then says how.
    pub default: Option<&'static str>,
    /// What it means, in one line.
    pub help: &'static str,
    /// Its value is never printed, not even by `--help` (which shows env values otherwise).
    pub secret: bool,
}

const fn var(name: &'static str, default: Option<&'static str>, help: &'static str) -> Var {
    Var { name, default, help, secret: false }
}

/// Every setting read from the environment.
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
    var(
        "PORTCULLIS_METRICS_ADDR",
        None,
        "when set, Prometheus metrics at GET /metrics on this address only, never on the public listener [default: unset]",
    ),
    var(
        "PORTCULLIS_LOG_FORMAT",
        Some("text"),
        "text, or json: one JSON object per line, every request line with its request id",
    ),
    var("RUST_LOG", Some("info"), "log filter (env_logger syntax)"),
];

/// The definition of `name`; every name the parser reads is in [`VARS`].
pub(super) fn default_of(name: &str) -> Option<&'static str> {
    VARS.iter().find(|v| v.name == name).and_then(|v| v.default)
}

/// The settings as global command-line arguments, each also read from its environment
/// variable, for `--help` of every command (clap shows the variable and the default).
#[doc(hidden)]
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
