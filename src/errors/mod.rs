//! The one place errors become responses: JSON for the API scope, an HTML page for the rest.

mod api;
mod page;
mod route;
mod shaping;

pub use api::{ApiError, BAD_CREDENTIALS, Busy, ErrorBody, MfaRequiredBody};
pub use page::{FORM_EXPIRED, PageError};
pub use route::{RouteKind, for_request, not_found, wants_json};
pub use shaping::{form_error, json_error, shape_bare_error};
