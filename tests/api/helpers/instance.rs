//! `portcullis serve` as its own process: several of them on one PostgreSQL database, a crash
//! (SIGKILL), the log as an operator reads it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const SECRET: &str = "shared-secret-for-every-instance-0123456789";
const PUBLIC_URL: &str = "http://auth.test.internal";

/// One `portcullis serve` process. Killed when dropped.
pub struct Instance {
    child: Child,
    pub base: String,
    /// Every line the process has logged so far.
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Instance {
    pub fn start(database_url: &str, extra_env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portcullis"));
        command
            .env("DATABASE_URL", database_url)
            .env("PORTCULLIS_ADDR", "127.0.0.1:0")
            .env("PORTCULLIS_JWT_SECRET", SECRET)
            .env("PORTCULLIS_PUBLIC_URL", PUBLIC_URL)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("portcullis starts");
        let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let base = loop {
            let line = lines.next().expect("the server logs its address").expect("utf-8 log");
            if let Some(at) = line.find("listening on http://") {
                // A text line ends with the address; a JSON one goes on after a quote.
                let rest = &line[at + "listening on ".len()..];
                break rest.split(['"', ' ']).next().unwrap_or_default().trim().to_owned();
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, base, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The process's resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
        line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number")
    }

    /// SIGKILL: no graceful shutdown, as in a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn token(base: &Instance, email: &str, password: &str) -> reqwest::Response {
    let form = [("grant_type", "password"), ("username", email), ("password", password)];
    reqwest::Client::new().post(base.url("/api/auth/token")).form(&form).send().await.expect("request")
}

pub async fn refresh(base: &Instance, refresh_token: &str) -> reqwest::Response {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    reqwest::Client::new().post(base.url("/api/auth/token")).form(&form).send().await.expect("request")
}
