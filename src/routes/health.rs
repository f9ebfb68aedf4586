//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use diesel::RunQueryDsl;

use crate::db;
use crate::errors::ApiError;
use crate::state::AppState;

/// Always 200: the process is up. Touches no database.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// 200 when the database answers, 503 otherwise.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    db::query(&state.pool, |conn| diesel::sql_query("SELECT 1").execute(conn)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready"})))
}
