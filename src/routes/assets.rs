//! The static assets, compiled into the binary: it needs no files beside it (a container image
//! or a package ships one file). Each is served with a strong `ETag` (a hash of its bytes) and
//! an hour of caching; a conditional request that still matches gets 304.

use std::sync::OnceLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use sha2::{Digest, Sha256};

use crate::errors;

struct Asset {
    path: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// Every file under `static/`; `tests/api/health.rs` checks that none is missing here.
const ASSETS: &[Asset] = &[
    Asset {
        path: "css/app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../../static/css/app.css"),
    },
    // The one script: passkey buttons (WebAuthn needs the browser's API).
    Asset {
        path: "js/passkeys.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/js/passkeys.js"),
    },
];

/// `ETag`s, computed once.
fn etags() -> &'static Vec<String> {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                let digest = Sha256::digest(a.bytes);
                let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
                format!("\"{hex}\"")
            })
            .collect()
    })
}

/// The paths served, for the test that compares them with `static/`.
pub fn paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|a| a.path)
}

/// Each asset as a resource of its own at `/static/<path>` (no catch-all under `/static`: a
/// host app's own files may sit beside them).
pub fn configure(cfg: &mut web::ServiceConfig) {
    for asset in ASSETS {
        cfg.service(web::resource(format!("/static/{}", asset.path)).get(self::asset));
    }
}

/// `GET /static/{path}`, found by the route it matched.
pub async fn asset(req: HttpRequest) -> HttpResponse {
    let pattern = req.match_pattern().unwrap_or_default();
    let Some(index) = ASSETS.iter().position(|a| pattern.strip_prefix("/static/") == Some(a.path)) else {
        return errors::not_found(req).await;
    };
    let (asset, etag) = (&ASSETS[index], &etags()[index]);
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if matches { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header((header::CACHE_CONTROL, "public, max-age=3600"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        res.insert_header((header::ETAG, value));
    }
    if matches {
        return res.finish();
    }
    res.content_type(asset.content_type).body(asset.bytes)
}
