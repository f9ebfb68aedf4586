//! The process's log: env_logger, filtered by `RUST_LOG`, in the format `PORTCULLIS_LOG_FORMAT`
//! names. Structured fields travel as `log` key-values (`log::info!(route = r; "request")`):
//! the text format appends them as `key=value`, the JSON format makes them members.
//!
//! Two kinds of line are meant for machines: one per request (target `portcullis::request`:
//! request id, method, route pattern, status, duration; never a query string, which may hold a
//! token) and one per security event (target `portcullis::security`: the event and the client
//! IP, in a shape the fail2ban filter in `docs/fail2ban/` matches).

use std::io::Write;

use log::kv::{Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

use crate::config::LogFormat;

/// Installs the logger. Call once, before anything logs.
pub fn init(format: LogFormat) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if format == LogFormat::Json {
        builder.format(|buf, record| writeln!(buf, "{}", json_line(record)));
    }
    builder.init();
}

/// A fatal error before or outside the logger, written as the chosen format wants it.
pub fn fatal_line(format: LogFormat, message: &str) -> String {
    match format {
        LogFormat::Text => format!("portcullis: {message}"),
        LogFormat::Json => {
            let mut line = Map::new();
            line.insert("ts".into(), Json::String(timestamp()));
            line.insert("level".into(), Json::String("ERROR".into()));
            line.insert("target".into(), Json::String("portcullis".into()));
            line.insert("message".into(), Json::String(message.to_owned()));
            Json::Object(line).to_string()
        }
    }
}

/// One record as one JSON object: time, level, target, message, then its key-values.
fn json_line(record: &log::Record<'_>) -> String {
    let mut line = Map::new();
    line.insert("ts".into(), Json::String(timestamp()));
    line.insert("level".into(), Json::String(record.level().to_string()));
    line.insert("target".into(), Json::String(record.target().to_owned()));
    line.insert("message".into(), Json::String(record.args().to_string()));
    let mut fields = Fields(&mut line);
    // A visitor that never fails: there is nothing to report.
    let _ = record.key_values().visit(&mut fields);
    Json::Object(line).to_string()
}

struct Fields<'a>(&'a mut Map<String, Json>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let json = if let Some(n) = value.to_u64() {
            Json::from(n)
        } else if let Some(n) = value.to_i64() {
            Json::from(n)
        } else if let Some(x) = value.to_f64() {
            Json::from(x)
        } else if let Some(b) = value.to_bool() {
            Json::Bool(b)
        } else {
            Json::String(value.to_string())
        };
        self.0.insert(key.as_str().to_owned(), json);
        Ok(())
    }
}

/// RFC 3339 in UTC, to the millisecond.
fn timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::json_line;

    #[test]
    fn a_record_with_fields_is_one_json_object() {
        let kvs: &[(&str, log::kv::Value<'_>)] =
            &[("status", log::kv::Value::from(404u16)), ("route", log::kv::Value::from("/api/x/{id}"))];
        let record = log::Record::builder()
            .args(format_args!("a \"quoted\"\nmessage"))
            .level(log::Level::Info)
            .target("portcullis::request")
            .key_values(&kvs)
            .build();
        let line = json_line(&record);
        assert!(!line.contains('\n'), "{line}");
        let parsed: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(parsed["status"], 404);
        assert_eq!(parsed["route"], "/api/x/{id}");
        assert_eq!(parsed["message"], "a \"quoted\"\nmessage");
        assert_eq!(parsed["level"], "INFO");
        assert!(parsed["ts"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
