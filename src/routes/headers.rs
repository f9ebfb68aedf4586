//! Security headers on every response (OWASP secure headers).

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::config::Origins;

use crate::state::AppState;

const CSP_BASE: &str = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";
const CSP: &str =
    "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

/// The CSP of the pages whose form may end in a redirect to one of the deployment's apps (the
/// sign-in form and its code step, SPEC §3: absolute `next` targets on
/// `PORTCULLIS_CORS_ORIGINS`), or to the OpenID Connect client an authorization in `next`
/// returns to (SPEC §11: its registered redirect URI's origin, looked up). Chromium applies
/// `form-action` to the redirect that answers a form's POST, so with `'self'` alone the person
/// stays on "Sign in", cookies already set.
pub async fn with_sign_in_csp(
    pool: &crate::db::Pool,
    apps: &Origins,
    next: &str,
    res: HttpResponse,
) -> Result<HttpResponse, crate::db::StoreError> {
    use crate::auth::provider::authorize::{AUTHORIZE_PATH, redirect_origin};
    let target = next.to_owned();
    let client = match target.starts_with(AUTHORIZE_PATH) {
        true => crate::db::query(pool, move |conn| Ok(redirect_origin(conn, &target))).await?,
        false => None,
    };
    Ok(with_form_action(res, apps.iter().chain(client.as_deref())))
}

/// This page's forms may also lead to `targets` (origins).
pub fn with_form_action<'a>(
    mut res: HttpResponse,
    targets: impl IntoIterator<Item = &'a str>,
) -> HttpResponse {
    let targets: Vec<&str> = targets.into_iter().collect();
    if targets.is_empty() {
        return res;
    }
    let csp = format!("{CSP_BASE}; form-action 'self' {}", targets.join(" "));
    if let Ok(value) = HeaderValue::from_str(&csp) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}

/// Whether answers carry HSTS: the public URL is https.
pub fn hsts(req: &ServiceRequest) -> bool {
    req.app_data::<web::Data<AppState>>().is_some_and(|s| s.public_url.is_https())
}

/// Puts the security headers on an answer.
pub fn secure(headers: &mut HeaderMap, hsts: bool) {
    // A page may widen `form-action` for its own form ([`with_sign_in_csp`]).
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A page may ask for less (the reset form's address holds a token: `same-origin`).
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    // Pages and API answers are per-user: no-store unless the route said otherwise (the
    // static files set their own Cache-Control).
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
