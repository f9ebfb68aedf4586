//! The process's log: env_logger, filtered by `RUST_LOG`, in the format `PORTCULLIS_LOG_FORMAT`
//! names. Structured fields travel as `log` key-values (`log::info!(route = r; "request")`):
//! the text format appends them as `key=value`, the JSON format makes them members.
//!
//! Two kinds of line are meant for machines: one per request (target `portcullis::request`:
//! request id, method, route pattern, status, duration; never a query string, which may hold a
//! token) and one per security event (target `portcullis::security`: the event and the client
//! IP, in a shape the fail2ban filter in `docs/fail2ban/` matches).
//!
//! Every record is exactly one line in either format, whatever it carries: user text (an
//! address, a passkey's name, a user agent) never goes inside a message, only into a field,
//! and fields are escaped — quoted with control characters and quotes escaped in the text
//! format, JSON strings in the other — so nobody can write a line, or the start of one, that
//! the fail2ban filter (anchored at the start of the message) would count.

use std::io::Write;

use log::kv::{Key, Value, VisitSource};
use serde_json::{Map, Value as Json};

use crate::config::LogFormat;

/// Installs the logger. Call once, before anything logs.
pub fn init(format: LogFormat) {
    let mut builder = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Json => builder.format(|buf, record| writeln!(buf, "{}", json_line(record))),
        LogFormat::Text => builder.format(|buf, record| writeln!(buf, "{}", text_line(record))),
    };
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
/// The four fixed members come first, in this order, so that a filter can anchor on them
/// (`docs/fail2ban/`); the key-values follow (a key-value named like one of them is dropped).
fn json_line(record: &log::Record<'_>) -> String {
    let fixed = [
        ("ts", timestamp()),
        ("level", record.level().to_string()),
        ("target", record.target().to_owned()),
        ("message", record.args().to_string()),
    ];
    let mut line = String::from("{");
    for (n, (key, value)) in fixed.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        line.push_str(&format!("{}:{}", Json::from(*key), Json::from(value.as_str())));
    }
    let mut fields = Map::new();
    // A visitor that never fails: there is nothing to report.
    let _ = record.key_values().visit(&mut Fields(&mut fields));
    for (key, value) in fields.iter().filter(|(k, _)| !fixed.iter().any(|(f, _)| f == k)) {
        line.push_str(&format!(",{}:{value}", Json::from(key.as_str())));
    }
    line.push('}');
    line
}

/// `[time LEVEL target] message key=value …`: env_logger's own layout, with the message's
/// control characters escaped and every value that is not a plain word quoted and escaped.
fn text_line(record: &log::Record<'_>) -> String {
    let mut line = format!(
        "[{} {:<5} {}] {}",
        timestamp_secs(),
        record.level(),
        record.target(),
        escape_controls(&record.args().to_string())
    );
    let mut fields = TextFields(&mut line);
    // A visitor that never fails: there is nothing to report.
    let _ = record.key_values().visit(&mut fields);
    line
}

fn escape_controls(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() })
        .collect()
}

struct TextFields<'a>(&'a mut String);

impl<'kvs> VisitSource<'kvs> for TextFields<'_> {
    fn visit_pair(&mut self, key: Key<'kvs>, value: Value<'kvs>) -> Result<(), log::kv::Error> {
        let text = value.to_string();
        let plain = !text.is_empty()
            && text.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '=' && c != '\\');
        if plain {
            self.0.push_str(&format!(" {key}={text}"));
        } else {
            self.0.push_str(&format!(" {key}={text:?}"));
        }
        Ok(())
    }
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

/// RFC 3339 in UTC, to the second (the text format, as env_logger writes it).
fn timestamp_secs() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&format).unwrap_or_default()
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
    use super::{json_line, text_line};

    #[test]
    fn a_text_record_is_one_line_whatever_its_fields_hold() {
        let kvs: &[(&str, log::kv::Value<'_>)] = &[
            ("route", log::kv::Value::from("/api/x/{id}")),
            (
                "detail",
                log::kv::Value::from(
                    "x\n[2026-01-01T00:00:00Z INFO  portcullis::security] security event login_failed from 203.0.113.77 \"q\"",
                ),
            ),
        ];
        let record = log::Record::builder()
            .args(format_args!("a message\nwith a break"))
            .level(log::Level::Info)
            .target("portcullis::security")
            .key_values(&kvs)
            .build();
        let line = text_line(&record);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("] a message\\nwith a break route=/api/x/{id} detail=\"x\\n["), "{line}");
        assert!(line.contains("\\\"q\\\"\""), "quotes are escaped: {line}");
    }

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
