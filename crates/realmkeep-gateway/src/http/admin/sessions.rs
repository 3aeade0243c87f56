//! `POST /v1/admin/sessions` (an operator logs in) and `DELETE /v1/admin/sessions` (logs out).
//! Apart from players' sessions: another table, another token, another Redis key.

use super::{failure, Op};
use crate::error::ApiFailure;
use crate::http::{rate_limit, AppState, Body};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_cache::{keys::ADMIN_SESSION_TTL, RateAction};
use realmkeep_domain::Password;
use realmkeep_protocol::admin::{AdminCredentials, AdminSessionIssued, OperatorView};
use realmkeep_protocol::Reason;
use realmkeep_store::admin_accounts::Operator;
use realmkeep_store::StoreError;
use std::net::SocketAddr;

pub(crate) fn view(o: &Operator) -> OperatorView {
    OperatorView {
        id: o.id().0,
        name: o.name().to_string(),
        role: o.role().as_str().to_string(),
    }
}

/// Checks the operator's name and password (Argon2id, the same bound on hashes in flight as
/// players'), counted against the address's login rate limit; then a new operator's session.
#[utoipa::path(post, path = "/v1/admin/sessions", tag = "sessions",
    request_body = AdminCredentials,
    responses(
        (status = 200, body = AdminSessionIssued),
        (status = 401, description = "wrong name or password", body = realmkeep_protocol::admin::AdminError),
        (status = 429, description = "too many logins from this address", body = realmkeep_protocol::admin::AdminError),
    ))]
pub(crate) async fn login(
    State(app): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    Body(c): Body<AdminCredentials>,
) -> Result<Json<AdminSessionIssued>, ApiFailure> {
    rate_limit(&app, peer, RateAction::Login).await?;
    let bad = || ApiFailure::new(Reason::BadCredentials, "wrong name or password");
    let password = Password::parse(&c.password).map_err(|_| bad())?;
    let operator = match app.store().admin_login(&c.name, &password).await {
        Ok(o) => o,
        Err(StoreError::Refused(realmkeep_domain::records::Refusal::BadCredentials)) => {
            tracing::info!(name = %c.name.chars().take(40).collect::<String>(), "operator login refused");
            return Err(bad());
        }
        Err(e) => return Err(failure(e)),
    };
    let (token, session) = app
        .cache()
        .admin_sessions()
        .issue(operator.id())
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "operator's session not issued");
            ApiFailure::try_again()
        })?;
    tracing::info!(operator = %operator.name(), role = %operator.role(), "operator logged in");
    Ok(Json(AdminSessionIssued {
        token: token.as_str().to_string(),
        operator: view(&operator),
        idle_secs: ADMIN_SESSION_TTL.as_secs(),
        session_ends_unix_s: session.ends_unix_s(),
    }))
}

/// Ends this operator's session.
#[utoipa::path(delete, path = "/v1/admin/sessions", tag = "sessions",
    security(("operator" = [])),
    responses((status = 204, description = "logged out")))]
pub(crate) async fn logout(State(app): State<AppState>, op: Op) -> Result<StatusCode, ApiFailure> {
    app.cache()
        .admin_sessions()
        .revoke(&op.token)
        .await
        .map_err(|_| ApiFailure::try_again())?;
    Ok(StatusCode::NO_CONTENT)
}
