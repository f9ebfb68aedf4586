//! A real SMTP server on loopback (Python's aiosmtpd, `testkit/smtp_sink.py`) and what it received.
//! Skipped with a printed reason where aiosmtpd is missing; with CI=true it must run
//! (`.ci/run` installs Debian's `python3-aiosmtpd`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::free_port;

const PYTHON: &str = "/usr/bin/python3";

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    /// Headers and body, with quoted-printable soft line breaks and `=3D` undone.
    pub text: String,
}

impl Received {
    /// The first absolute link in the mail that contains `path`.
    pub fn link(&self, path: &str) -> Option<String> {
        let at = self.text.find(path)?;
        let start = self.text[..at].rfind("http")?;
        let end = self.text[start..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '<')
            .map_or(self.text.len(), |n| start + n);
        Some(self.text[start..end].to_owned())
    }

    pub fn subject(&self) -> &str {
        self.text.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or("")
    }
}

impl SmtpSink {
    /// A server on a free port, or `None` (printed) where aiosmtpd is missing and CI does not insist.
    pub fn start() -> Option<Self> {
        Self::start_on(free_port(), 0.0)
    }

    /// A server that waits `delay` seconds before accepting each message.
    pub fn start_on(port: u16, delay: f64) -> Option<Self> {
        Self::start_with(port, delay, None)
    }

    /// A server that requires AUTH with `user:password`.
    pub fn start_with_auth(credentials: &str) -> Option<Self> {
        Self::start_with(free_port(), 0.0, Some(credentials))
    }

    /// A server that speaks TLS: `mode` is `starttls` (offered and required) or `tls`
    /// (implicit), with the certificate and key at `cert` and `key` (PEM).
    pub fn start_tls(mode: &str, cert: &std::path::Path, key: &std::path::Path) -> Option<Self> {
        let tls = [mode.to_owned(), cert.display().to_string(), key.display().to_string()];
        Self::start_full(free_port(), 0.0, None, &tls)
    }

    fn start_with(port: u16, delay: f64, credentials: Option<&str>) -> Option<Self> {
        Self::start_full(port, delay, credentials, &[])
    }

    fn start_full(port: u16, delay: f64, credentials: Option<&str>, tls: &[String]) -> Option<Self> {
        let available = Command::new(PYTHON)
            .args(["-c", "import aiosmtpd"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but aiosmtpd is missing");
            eprintln!("skipping: {PYTHON} cannot import aiosmtpd (apt-get install python3-aiosmtpd)");
            return None;
        }
        let dir = tempfile::tempdir().expect("mail dir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("smtp_sink.py");
        let mut child = Command::new(PYTHON)
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .arg(delay.to_string())
            .arg(credentials.unwrap_or("-"))
            .args(tls)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP server starts");
        let mut ready = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut ready).expect("read");
        assert_eq!(ready.trim(), "ready", "the SMTP server did not come up");
        Some(Self { child, port, dir })
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("mail dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let raw = std::fs::read_to_string(path).expect("a mail");
                let to = raw.lines().next().unwrap_or("").trim_start_matches("X-Envelope-To: ").to_owned();
                Received { to, text: raw.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=") }
            })
            .collect()
    }

    /// Mails to `to`, waiting up to ten seconds for at least `n` of them.
    pub async fn wait_for(&self, to: &str, n: usize) -> Vec<Received> {
        for _ in 0..100 {
            let mails: Vec<Received> = self.received().into_iter().filter(|m| m.to == to).collect();
            if mails.len() >= n {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("fewer than {n} mails to {to} arrived; received: {:?}", self.received());
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
