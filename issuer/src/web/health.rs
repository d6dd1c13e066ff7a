//! `/health`: liveness and readiness (the database answers).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};

use crate::error::AppResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

async fn health(State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    let schema: i64 = state.db.read(crate::store::schema::version).await?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "schema": schema,
        "deployment": state.settings.deployment.as_str(),
        "key_id": state.signer.key_id().to_string(),
    })))
}
