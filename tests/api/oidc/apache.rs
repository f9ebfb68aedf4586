//! Apache with `mod_auth_openidc` (Debian `libapache2-mod-auth-openidc`) protecting a location,
//! as people protect apps that know nothing of OpenID Connect (SPEC §11, issue 24): headless
//! Chromium opens it, is sent to Portcullis, signs in, consents, and lands on the protected
//! page, which shows the address Apache read from the ID token; then Apache's logout reaches
//! Portcullis's `end_session_endpoint`, which ends the session and sends the browser back.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use portcullis::domain::Role;
use portcullis_testkit::{Backend, Browser, free_port};

use super::register_with;
use crate::helpers::spawn_app_on;

const APACHE: &str = "/usr/sbin/apache2";
const MODULES: &str = "/usr/lib/apache2/modules";

/// Apache on a free loopback port, in the foreground, with its config, pages and logs in a
/// temporary folder; stopped when dropped.
struct Apache {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Apache {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Apache {
    fn available() -> bool {
        let module = Path::new(MODULES).join("mod_auth_openidc.so");
        if Path::new(APACHE).exists() && module.exists() {
            return true;
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but Apache or mod_auth_openidc is missing"
        );
        eprintln!("skipping: apt-get install apache2 libapache2-mod-auth-openidc");
        false
    }

    fn start(port: u16, issuer: &str, client_id: &str, secret: &str) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let root = dir.path();
        // Apache serves as www-data: the folder and its pages must be readable by it.
        std::fs::create_dir_all(root.join("htdocs/protected")).expect("docroot");
        std::fs::write(root.join("htdocs/protected/index.shtml"), PROTECTED_PAGE).expect("page");
        std::fs::write(
            root.join("htdocs/loggedout.html"),
            "<!doctype html><title>Out</title><p>Logged out of the app</p>",
        )
        .expect("page");
        let config = format!(
            r#"ServerRoot "{root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
DefaultRuntimeDir "{root}"
ErrorLog "{root}/error.log"
LogLevel warn auth_openidc:info
User www-data
Group www-data
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule mime_module {MODULES}/mod_mime.so
LoadModule dir_module {MODULES}/mod_dir.so
LoadModule include_module {MODULES}/mod_include.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
TypesConfig /etc/mime.types
DocumentRoot "{root}/htdocs"
DirectoryIndex index.shtml index.html
AddType text/html .shtml
AddOutputFilter INCLUDES .shtml
<Directory "{root}/htdocs">
    Options +Includes
    Require all granted
</Directory>
OIDCProviderMetadataURL {issuer}/.well-known/openid-configuration
OIDCClientID {client_id}
OIDCClientSecret {secret}
OIDCRedirectURI http://127.0.0.1:{port}/protected/redirect_uri
OIDCCryptoPassphrase a-passphrase-only-this-test-knows
OIDCScope "openid email"
OIDCPKCEMethod S256
OIDCPassClaimsAs environment
OIDCDefaultLoggedOutURL http://127.0.0.1:{port}/loggedout.html
<Location /protected>
    AuthType openid-connect
    Require valid-user
</Location>
"#,
            root = root.display()
        );
        std::fs::write(root.join("httpd.conf"), config).expect("config");
        let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(root).status();
        let child = Command::new(APACHE)
            .arg("-f")
            .arg(root.join("httpd.conf"))
            .arg("-DFOREGROUND")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("apache starts");
        let apache = Self { child, dir, port };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return apache;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("Apache did not start: {}", apache.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// The protected page: what Apache learnt from the ID token.
const PROTECTED_PAGE: &str = r#"<!doctype html><title>Protected</title>
<p>Protected page for <span id="email"><!--#echo var="OIDC_CLAIM_email" --></span></p>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apache_mod_auth_openidc_signs_a_person_in_and_out_in_chromium() {
    if !Apache::available() {
        return;
    }
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let user = app.add_user(Role::User);
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/protected/redirect_uri");
    let logged_out = format!("http://127.0.0.1:{port}/loggedout.html");
    let client = register_with(&app, &redirect, &logged_out, false);
    let apache = Apache::start(port, &app.address, &client.id, client.secret.as_deref().expect("secret"));

    browser.goto(&apache.url("/protected/")).await;
    browser.fill("#email", &user.email).await;
    browser.fill("#password", &user.password).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    let consent = browser.wait_for_text("to sign you in?").await;
    assert!(consent.contains("See your email address"), "the consent page: {consent}");
    browser.click("button[value=allow]").await;
    let page = browser.wait_for_text("Protected page for").await;
    assert!(page.contains(&format!("Protected page for {}", user.email)), "{page}\n{}", apache.log());
    assert_eq!(app.live_sessions(&user), 1);

    // Apache's logout goes through Portcullis's end_session_endpoint (with the ID token as
    // its hint, so no confirmation is asked) and back to the app's logged-out page.
    let logout = format!("/protected/redirect_uri?logout={}", urlencode(&logged_out));
    browser.goto(&apache.url(&logout)).await;
    let out = browser.wait_for_text("Logged out of the app").await;
    assert!(out.contains("Logged out of the app"), "{out}\n{}", apache.log());
    assert_eq!(app.live_sessions(&user), 0, "the Portcullis session ended too");

    // Again: consent is remembered, so the sign-in form's POST goes through the authorization
    // straight to the app — which the sign-in page's CSP must allow (form-action), or Chromium
    // stops on "Sign in".
    browser.goto(&apache.url("/protected/")).await;
    browser.fill("#email", &user.email).await;
    browser.fill("#password", &user.password).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    let page = browser.wait_for_text("Protected page for").await;
    assert!(page.contains(&user.email), "{page}");
    browser.quit().await;
}

fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)]).expect("encode").trim_start_matches("v=").to_owned()
}
