//! Real-browser tests: headless Chromium driven over WebDriver (chromedriver), against the real
//! server. Skipped with a printed reason where Chromium or chromedriver is missing; with
//! CI=true they must run (`.ci/run` installs Debian's `chromium` and `chromium-driver`).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::free_port;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A headless Chromium session with its own chromedriver and profile; both end on drop.
pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_port: u16,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// A new browser, or `None` (printed) when this machine has none and CI does not insist.
    pub async fn start() -> Option<Self> {
        let missing = [CHROMIUM, CHROMEDRIVER].into_iter().find(|p| !std::path::Path::new(p).exists());
        if let Some(path) = missing {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but {path} is missing");
            eprintln!("skipping: {path} is missing (apt-get install chromium chromium-driver)");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // As root in a container: no sandbox; and nothing that reaches out to the network.
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => return Some(Self { client, driver, driver_port: port, _profile: profile }),
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer: {last_error:?}");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Resizes the window (a phone is about 390 px wide).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.expect("resize");
    }

    /// The whole current URL.
    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    /// The page's text. A click that navigates returns before the next page is there, so this
    /// waits for a body (and tries again if the old one went stale meanwhile).
    pub async fn text(&self) -> String {
        for _ in 0..100 {
            let body =
                self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("body")).await;
            if let Ok(body) = body
                && let Ok(text) = body.text().await
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the page never showed a body");
    }

    /// The page's text once it contains `needle` (or after ten seconds, whatever it says then).
    pub async fn wait_for_text(&self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.text().await;
            if text.contains(needle) || std::time::Instant::now() > deadline {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fills the sign-in form at `base` and submits it.
    pub async fn sign_in(&self, base: &str, email: &str, password: &str, remember: bool) {
        self.goto(&format!("{base}/login")).await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        if remember {
            self.click("input[name=remember]").await;
        }
        self.click("form[action='/login'] button[type=submit]").await;
        self.client
            .wait()
            .for_url(&format!("{base}/account").parse().expect("url"))
            .await
            .expect("signed in");
    }

    /// Replaces what the field holds with `value`, typed (waiting for the element: the page may
    /// still be loading).
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.element(css).await;
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.expect("click");
    }

    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.expect(css)
    }

    pub async fn cookie(&self, name: &str) -> Option<String> {
        let cookies = self.client.get_all_cookies().await.expect("cookies");
        cookies.into_iter().find(|c| c.name() == name).map(|c| c.value().to_owned())
    }

    /// Runs `script` as an async function body in the page (`return await …` gives its value).
    pub async fn run(&self, script: &str) -> serde_json::Value {
        let wrapped = format!(
            "const done = arguments[0]; (async () => {{ {script} }})().then(done, e => done('error: ' + e));"
        );
        self.client.execute_async(&wrapped, vec![]).await.expect("script")
    }
}

impl Browser {
    /// Gives the browser a virtual platform authenticator (the WebDriver WebAuthn extension,
    /// which chromedriver implements): it holds discoverable credentials and verifies its user.
    pub async fn add_virtual_authenticator(&self) {
        let session = self.client.session_id().await.expect("session id").expect("a session");
        let url = format!("http://127.0.0.1:{}/session/{session}/webauthn/authenticator", self.driver_port);
        let options = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "isUserConsenting": true,
        });
        let res = reqwest::Client::new().post(url).json(&options).send().await.expect("chromedriver");
        assert!(
            res.status().is_success(),
            "no virtual authenticator: {}",
            res.text().await.unwrap_or_default()
        );
    }

    /// Ends the WebDriver session (chromedriver closes Chromium) and chromedriver itself.
    pub async fn quit(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A test that panicked never closed its session: end its Chromium by its profile.
        let _ = Command::new("pkill").arg("-f").arg(self._profile.path()).status();
    }
}

/// Serves one fixed HTML page on `ip` (a port of its own), as a page of another origin would.
pub async fn serve_page(ip: &str, html: String) -> String {
    let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}
