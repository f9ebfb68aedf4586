use super::*;

fn from(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
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
