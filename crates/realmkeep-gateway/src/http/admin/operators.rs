//! Operators' accounts, for administrators: `GET|POST /v1/admin/operators` and `POST
//! /v1/admin/operators/{id}/disable`.

use super::sessions::view;
use super::{failure, id, rfc3339, Op};
use crate::error::ApiFailure;
use crate::http::{AppState, Body};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_domain::{AdminId, AdminPower, AdminRole, Password};
use realmkeep_protocol::admin::{NewOperator, OperatorRow, OperatorView, Reasoned};
use realmkeep_protocol::Reason;

#[utoipa::path(get, path = "/v1/admin/operators", tag = "operators",
    security(("operator" = [])),
    responses((status = 200, body = Vec<OperatorRow>),
        (status = 403, description = "needs administrator", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn list(
    State(app): State<AppState>,
    op: Op,
) -> Result<Json<Vec<OperatorRow>>, ApiFailure> {
    op.require(AdminPower::AdminAccounts)?;
    let rows = app.store().admin_accounts().await.map_err(failure)?;
    Ok(Json(
        rows.into_iter()
            .map(|a| OperatorRow {
                id: a.id.0,
                name: a.name,
                role: a.role.as_str().to_string(),
                created_at: rfc3339(a.created_at),
                created_by: a.created_by.map(|c| c.0),
                disabled_at: a.disabled_at.map(rfc3339),
                last_login_at: a.last_login_at.map(rfc3339),
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/v1/admin/operators", tag = "operators", request_body = NewOperator,
    security(("operator" = [])),
    responses((status = 201, body = OperatorView),
        (status = 403, description = "needs administrator", body = realmkeep_protocol::admin::AdminError),
        (status = 409, description = "name taken", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn create(
    State(app): State<AppState>,
    op: Op,
    Body(n): Body<NewOperator>,
) -> Result<(StatusCode, Json<OperatorView>), ApiFailure> {
    op.require(AdminPower::AdminAccounts)?;
    let note = op.note(&n.reason)?;
    let role: AdminRole = n.role.parse().map_err(|e: realmkeep_domain::DomainError| {
        ApiFailure::new(Reason::BadFields, e.to_string())
    })?;
    let password = Password::parse(&n.password)
        .map_err(|e| ApiFailure::new(Reason::WeakPassword, e.to_string()))?;
    let id = app
        .store()
        .create_admin_account(&n.name, role, &password, Some(&note), note.reason())
        .await
        .map_err(failure)?;
    let created = app
        .store()
        .operator(id)
        .await?
        .ok_or_else(|| ApiFailure::new(Reason::Internal, "the new operator is not there"))?;
    tracing::info!(by = %op.operator.name(), operator = %created.name(), role = %role, "operator created");
    Ok((StatusCode::CREATED, Json(view(&created))))
}

#[utoipa::path(post, path = "/v1/admin/operators/{id}/disable", tag = "operators",
    params(("id" = i64, Path, description = "operator id")), request_body = Reasoned,
    security(("operator" = [])),
    responses((status = 204, description = "disabled"),
        (status = 403, description = "needs administrator, or its own account", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn disable(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(r): Body<Reasoned>,
) -> Result<StatusCode, ApiFailure> {
    op.require(AdminPower::AdminAccounts)?;
    let note = op.note(&r.reason)?;
    let target = AdminId(id(path)?);
    app.store()
        .disable_admin_account(target, &note)
        .await
        .map_err(failure)?;
    Ok(StatusCode::NO_CONTENT)
}
