//! `/admin/providers`: the identity providers people may sign in with (SPEC §13) — list, add
//! (the client secret typed once, stored sealed, never shown again) and remove. Admins only.
//! Every action goes through `auth::upstream::providers`, like `portcullis provider`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::upstream::providers::{
    self, GITHUB_API, GITHUB_WEB, Kind, ProviderError, ProviderSpec, ProviderView,
};
use crate::auth::web::extract::RequireAdmin;
use crate::db;
use crate::errors::{ApiError, PageError};
use crate::routes::format;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

/// A provider as the page shows it.
pub struct ProviderRow {
    pub provider: ProviderView,
    pub added: String,
}

/// The form, as typed (shown again with the error; never the secret).
#[derive(Deserialize, Default)]
pub struct NewProviderForm {
    #[serde(default)]
    name: String,
    /// `oidc` or `github`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default, skip_serializing)]
    client_secret: String,
    #[serde(default)]
    web_url: String,
    #[serde(default)]
    api_url: String,
}

#[derive(Template)]
#[template(path = "pages/admin_providers.html")]
pub struct AdminProvidersPage {
    layout: Layout,
    providers: Vec<ProviderRow>,
    form: NewProviderForm,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

pub async fn admin_providers_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    query: web::Query<DoneQuery>,
) -> Result<HttpResponse, PageError> {
    let notice = match query.done.as_deref() {
        Some("added") => Some("The provider is added: its button is on the sign-in page."),
        Some("removed") => Some("The provider is removed."),
        _ => None,
    };
    list_page(&req, &state, &admin, StatusCode::OK, NewProviderForm::default(), notice, None).await
}

async fn list_page(
    req: &HttpRequest,
    state: &AppState,
    admin: &RequireAdmin,
    status: StatusCode,
    form: NewProviderForm,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let public_url = state.public_url.as_str().to_owned();
    let all =
        db::query(&state.pool, move |conn| Ok(providers::list(conn, &public_url))).await?.map_err(page)?;
    let providers = all
        .into_iter()
        .map(|p| ProviderRow { added: format::human_date(p.created_at), provider: p })
        .collect();
    let (layout, csrf_cookie) = layout(req, state, Some(&admin.0));
    render(status, &AdminProvidersPage { layout, providers, form, notice, error }, csrf_cookie)
}

fn page(e: ProviderError) -> PageError {
    match e {
        ProviderError::NotFound(_) => PageError::not_found(),
        ProviderError::Store(e) => e.into(),
        other => ApiError::Unexpected(anyhow::anyhow!("{other}")).into(),
    }
}

pub async fn add_provider(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    form: web::Form<NewProviderForm>,
) -> Result<HttpResponse, PageError> {
    let mut form = form.into_inner();
    let or = |value: &str, default: &str| {
        if value.trim().is_empty() { default.to_owned() } else { value.to_owned() }
    };
    let kind = match form.kind.as_str() {
        "github" => {
            Kind::GitHub { web_url: or(&form.web_url, GITHUB_WEB), api_url: or(&form.api_url, GITHUB_API) }
        }
        _ => Kind::Oidc { issuer: form.issuer.clone() },
    };
    let spec = ProviderSpec {
        name: form.name.clone(),
        kind,
        client_id: form.client_id.clone(),
        client_secret: SecretString::from(std::mem::take(&mut form.client_secret)),
    };
    let (sealer, public_url) = (state.upstream.clone(), state.public_url.as_str().to_owned());
    let added =
        db::query(&state.pool, move |conn| Ok(providers::add(conn, &sealer, &public_url, &spec))).await?;
    match added {
        Ok(_) => Ok(see_other("/admin/providers?done=added", [])),
        Err(e @ (ProviderError::Invalid(_) | ProviderError::Taken(_))) => {
            let error = Some(e.to_string().replace("--", ""));
            list_page(&req, &state, &admin, StatusCode::UNPROCESSABLE_ENTITY, form, None, error).await
        }
        Err(e) => Err(page(e)),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    /// The "yes, remove it" box: without it nothing happens.
    confirm: Option<String>,
}

pub async fn remove_provider(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    name: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, PageError> {
    if form.confirm.as_deref() != Some("yes") {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "Not removed",
            "Tick the box to confirm that this provider should be removed, then press Remove again.",
        ));
    }
    let name = name.into_inner();
    db::query(&state.pool, move |conn| Ok(providers::remove(conn, &name))).await?.map_err(page)?;
    Ok(see_other("/admin/providers?done=removed", []))
}
