//! CSRF, all of it: signed double-submit tokens (`token.rs`), the tokens pages embed and the
//! session they bind to (`forms.rs`), and the checks each scope runs before any handler — the
//! Origin check, the form field of page posts, the header of API calls (`middleware.rs`).

mod forms;
pub mod middleware;
mod token;

pub use forms::{FORM_EXPIRED, binding, session_cookies, token_for};
pub use token::CsrfKey;
