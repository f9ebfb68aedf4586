//! The open-redirect check: where a browser may be sent after signing in.

/// Where to go after sign-in: only a same-site relative path (one leading `/`, not `//`
/// or `/\`, nothing a browser would strip or reinterpret), else `/account`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(|c| c.is_control() || c.is_whitespace())
                && path.len() <= 2048 =>
        {
            path
        }
        _ => "/account",
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_relative_paths_are_followed() {
        assert_eq!(safe_next(Some("/account?tab=1")), "/account?tab=1");
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        for bad in
            ["//evil.example", "/\\evil.example", "https://evil.example", "evil", "/\t/evil.example", ""]
        {
            assert_eq!(safe_next(Some(bad)), "/account", "{bad:?} was followed");
        }
        assert_eq!(safe_next(None), "/account");
    }
}
