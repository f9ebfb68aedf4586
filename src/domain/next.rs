//! The open-redirect check: where a browser may be sent after signing in.

use crate::config::Origins;

/// Where to go after sign-in: a same-site relative path (one leading `/`, not `//` or `/\`,
/// nothing a browser would strip or reinterpret), or an absolute URL on one of this
/// deployment's app origins (`PORTCULLIS_CORS_ORIGINS`, for apps behind forward auth);
/// anything else goes to `/account`.
pub fn safe_next<'a>(next: Option<&'a str>, apps: &Origins) -> &'a str {
    match next {
        Some(target)
            if target.len() <= 2048
                && !target.contains('\\')
                && !target.chars().any(|c| c.is_control() || c.is_whitespace())
                && (is_relative_path(target) || is_on_an_app_origin(target, apps)) =>
        {
            target
        }
        _ => "/account",
    }
}

fn is_relative_path(target: &str) -> bool {
    target.starts_with('/') && !target.starts_with("//")
}

/// `scheme://authority` followed by nothing or by a path, query or fragment, with that
/// origin listed exactly (so `https://app.example.com@evil.example` is not).
fn is_on_an_app_origin(target: &str, apps: &Origins) -> bool {
    let Some((scheme, rest)) = target.split_once("://") else { return false };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin_len = scheme.len() + 3 + end;
    !apps.is_empty() && apps.contains(&target[..origin_len])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Origins {
        Origins::default()
    }

    #[test]
    fn only_same_site_relative_paths_are_followed() {
        assert_eq!(safe_next(Some("/account?tab=1"), &none()), "/account?tab=1");
        assert_eq!(safe_next(Some("/admin/users"), &none()), "/admin/users");
        for bad in
            ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/\t/evil.example", ""]
        {
            assert_eq!(safe_next(Some(bad), &none()), "/account", "{bad:?} was followed");
        }
        assert_eq!(safe_next(None, &none()), "/account");
    }

    #[test]
    fn absolute_urls_are_followed_only_on_a_listed_app_origin() {
        let apps = Origins::parse("https://app.example.com,http://127.0.0.1:3000").unwrap();
        for good in ["https://app.example.com", "https://app.example.com/x?y=1", "http://127.0.0.1:3000/"] {
            assert_eq!(safe_next(Some(good), &apps), good);
        }
        for bad in [
            "https://app.example.com@evil.example/",
            "https://app.example.com.evil.example/",
            "https://evil.example/https://app.example.com",
            "http://app.example.com/",
            "https://app.example.com:444/",
            "https://app.example.com/\\evil",
            "javascript://app.example.com/%0aalert(1)",
        ] {
            assert_eq!(safe_next(Some(bad), &apps), "/account", "{bad:?} was followed");
        }
        assert_eq!(safe_next(Some("https://app.example.com/"), &none()), "/account");
    }
}
