//! CSRF, all of it: signed double-submit tokens (`token.rs`), the tokens pages embed and the
//! check a form post must pass (`forms.rs`), and the Origin and header checks each scope wraps
//! (`middleware.rs`).

mod forms;
pub mod middleware;
mod token;

pub use forms::{CsrfForm, FORM_EXPIRED, csrf_binding, form_ok, require_form, session_cookies, token_for};
pub use token::CsrfKey;
