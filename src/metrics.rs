//! What an operator watches (SPEC §10): Prometheus series for sign-ins, refreshes, reuse,
//! mails and request durations, and two gauges read at scrape time. One registry per running
//! app (not a process-wide one), so the instances a test starts side by side count apart.
//! They are served on `PORTCULLIS_METRICS_ADDR` only (`startup`), never on the public listener.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// How a sign-in attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInResult {
    Ok,
    /// Wrong password, unknown address, disabled or unconfirmed account.
    Failed,
    /// Refused before the password was checked: the throttle answered.
    Throttled,
}

impl SignInResult {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::Throttled => "throttled",
        }
    }
}

/// How a mail delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailResult {
    Sent,
    /// Given up after its retries.
    Failed,
}

impl MailResult {
    fn label(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// A request's route is its pattern (`/api/sessions/{id}`), never the raw path, so the number
/// of series stays bounded whatever clients send.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// A request's method as a label or in a log line: the methods HTTP defines, else `OTHER`.
/// A client may send any token as a method (16 KB of them): each made-up one must not become a
/// series of its own, nor text in a log line.
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"];
    KNOWN.into_iter().find(|known| *known == method).unwrap_or("OTHER")
}

type DurationFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    /// Without a metrics listener nobody reads the series: requests are not recorded at all.
    recording: bool,
    registry: Registry,
    sign_ins: Family<ResultLabel, Counter>,
    refreshes: Counter,
    refresh_reuse: Counter,
    mails: Family<ResultLabel, Counter>,
    durations: DurationFamily,
    db_pool_in_use: Gauge,
    hash_queue_depth: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// 0.5 ms to about 8 s, doubling: the fast reads and a sign-in's hash both land mid-range.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new(true)
    }
}

impl Metrics {
    /// `recording`: whether request durations are kept (only when `PORTCULLIS_METRICS_ADDR`
    /// serves them).
    pub fn new(recording: bool) -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let sign_ins = Family::default();
        registry.register("sign_ins", "Sign-in attempts by result", sign_ins.clone());
        let refreshes = Counter::default();
        registry.register("refreshes", "Refresh tokens rotated", refreshes.clone());
        let refresh_reuse = Counter::default();
        registry.register(
            "refresh_reuse",
            "Spent refresh tokens presented again (each ends its session)",
            refresh_reuse.clone(),
        );
        let mails = Family::default();
        registry.register("mails", "Mails delivered or given up", mails.clone());
        let durations = DurationFamily::new_with_constructor(duration_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route pattern and status",
            durations.clone(),
        );
        let db_pool_in_use = Gauge::default();
        registry.register("db_pool_in_use", "Database connections checked out", db_pool_in_use.clone());
        let hash_queue_depth = Gauge::default();
        registry.register(
            "hash_queue_depth",
            "Password hashes waiting for a hashing thread",
            hash_queue_depth.clone(),
        );
        Self {
            recording,
            registry,
            sign_ins,
            refreshes,
            refresh_reuse,
            mails,
            durations,
            db_pool_in_use,
            hash_queue_depth,
        }
    }

    pub fn sign_in(&self, result: SignInResult) {
        self.sign_ins.get_or_create(&ResultLabel { result: result.label() }).inc();
    }

    pub fn refreshed(&self) {
        self.refreshes.inc();
    }

    pub fn refresh_reused(&self) {
        self.refresh_reuse.inc();
    }

    pub fn mail(&self, result: MailResult) {
        self.mails.get_or_create(&ResultLabel { result: result.label() }).inc();
    }

    /// `route` is a route pattern or `unmatched`, never a raw path.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if !self.recording {
            return;
        }
        let labels = RequestLabels { method: method_label(method), route: route.to_owned(), status };
        self.durations.get_or_create(&labels).observe(seconds);
    }

    /// The text a scrape gets, with the gauges set to what they read now.
    pub fn render(&self, db_pool_in_use: u32, hash_queue_depth: usize) -> String {
        self.db_pool_in_use.set(i64::from(db_pool_in_use));
        self.hash_queue_depth.set(i64::try_from(hash_queue_depth).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::{Metrics, SignInResult};

    #[test]
    fn made_up_methods_share_one_label_and_nothing_is_kept_without_a_listener() {
        let metrics = Metrics::default();
        for n in 0..100 {
            metrics.request(&format!("X{n}"), "unmatched", 405, 0.001);
        }
        let text = metrics.render(0, 0);
        assert_eq!(text.matches("_count{").count(), 1, "{text}");
        assert!(text.contains("method=\"OTHER\""), "{text}");
        let off = Metrics::new(false);
        off.request("GET", "/healthz", 200, 0.001);
        assert!(!off.render(0, 0).contains("_count{"));
    }

    #[test]
    fn the_series_have_the_names_the_spec_gives() {
        let metrics = Metrics::default();
        metrics.sign_in(SignInResult::Throttled);
        metrics.refreshed();
        metrics.request("GET", "/api/sessions/{id}", 404, 0.002);
        let text = metrics.render(3, 1);
        for line in [
            "portcullis_sign_ins_total{result=\"throttled\"} 1",
            "portcullis_refreshes_total 1",
            "portcullis_refresh_reuse_total 0",
            "portcullis_db_pool_in_use 3",
            "portcullis_hash_queue_depth 1",
            "portcullis_http_request_duration_seconds_count{method=\"GET\",route=\"/api/sessions/{id}\",status=\"404\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
    }
}
