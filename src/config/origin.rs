//! Origins: the public URL browsers see, and the apps' origins of `PORTCULLIS_CORS_ORIGINS`.

use std::net::IpAddr;

/// The origin browsers see: scheme, host and optional port, no path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// An origin such as `https://auth.example.com` (no path); the reason when it is not.
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

    /// Cookies get `Secure` and the `__Host-` prefix, and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    /// The origin, lowercase, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host name for a sender address: the URL's host, or `localhost` for an IP address.
    pub fn mail_host(&self) -> String {
        let rest = self.0.split_once("://").map_or(self.0.as_str(), |(_, rest)| rest);
        let host = match rest.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => rest.rsplit_once(':').map_or(rest, |(host, _)| host),
        };
        if host.is_empty() || host.parse::<IpAddr>().is_ok() || rest.starts_with('[') {
            "localhost".to_owned()
        } else {
            host.to_owned()
        }
    }
}

/// `PORTCULLIS_CORS_ORIGINS`: this deployment's own apps on other origins, exactly as a
/// browser writes them in `Origin` (scheme, host, port; lowercase, no path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins(Vec<PublicUrl>);

impl Origins {
    /// A comma-separated list of origins.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|o| PublicUrl::parse(o).map_err(|r| format!("{o}: {r}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `origin` (an `Origin` header, or the origin of a URL) is one of them.
    pub fn contains(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o.as_str().eq_ignore_ascii_case(origin))
    }

    /// No origin listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The origins, as written.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(PublicUrl::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sender_host_is_the_public_host_or_localhost_for_an_ip() {
        let host = |url: &str| PublicUrl::parse(url).unwrap().mail_host();
        assert_eq!(host("https://auth.example.com"), "auth.example.com");
        assert_eq!(host("http://auth.example.com:8443"), "auth.example.com");
        assert_eq!(host("http://127.0.0.1:8080"), "localhost");
        assert_eq!(host("http://[::1]:8080"), "localhost");
    }

    #[test]
    fn public_url_must_be_an_origin() {
        assert!(PublicUrl::parse("https://auth.example.com/").unwrap().is_https());
        assert!(PublicUrl::parse("https://auth.example.com/login").is_err());
        assert!(PublicUrl::parse("auth.example.com").is_err());
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        let origins = Origins::parse("https://app.example.com, http://127.0.0.1:3000").unwrap();
        assert!(origins.contains("https://app.example.com"));
        assert!(origins.contains("http://127.0.0.1:3000"));
        assert!(!origins.contains("https://app.example.com:444"));
        assert!(!origins.contains("https://evil.example.com"));
        assert!(Origins::parse("https://app.example.com/path").is_err());
        assert!(Origins::parse("").unwrap().is_empty());
    }
}
