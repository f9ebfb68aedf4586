//! Who is on the other end of a request: IP address and user agent, as stored with a
//! session. The IP is the socket peer unless that peer is a trusted proxy.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;

/// Longest user agent kept; the rest is noise or an attack on the account page.
const MAX_USER_AGENT: usize = 256;

/// Proxies whose `X-Forwarded-For` is believed (`PORTCULLIS_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpAddr>);

#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

impl ClientInfo {
    pub fn from_request(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Self {
        let peer = req.peer_addr().map(|a| a.ip());
        let ip = match peer {
            Some(p) if trusted_proxies.contains(&p) => forwarded_client(req, trusted_proxies).unwrap_or(p),
            Some(p) => p,
            None => {
                return Self { ip: String::new(), user_agent: user_agent(req) };
            }
        };
        Self { ip: ip.to_string(), user_agent: user_agent(req) }
    }
}

/// The right-most `X-Forwarded-For` entry that is not itself a trusted proxy: entries to
/// its left were written by the client and prove nothing. Walked from the right, so junk the
/// client wrote further left cannot spoil the answer; junk among the trusted hops (a proxy
/// passing on what it could not parse) leaves the proxy itself as the client.
fn forwarded_client(req: &HttpRequest, trusted: &[IpAddr]) -> Option<IpAddr> {
    let values: Vec<&str> =
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    for hop in values.iter().rev().flat_map(|v| v.rsplit(',')) {
        let ip: IpAddr = hop.trim().parse().ok()?;
        if !trusted.contains(&ip) {
            return Some(ip);
        }
    }
    None
}

fn user_agent(req: &HttpRequest) -> String {
    let raw = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    raw.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT).collect()
}

impl actix_web::FromRequest for ClientInfo {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let trusted = req
            .app_data::<actix_web::web::Data<TrustedProxies>>()
            .map(|t| t.0.as_slice())
            .unwrap_or_default();
        std::future::ready(Ok(Self::from_request(req, trusted)))
    }
}
