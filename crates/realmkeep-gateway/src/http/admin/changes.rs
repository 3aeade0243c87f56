//! A character's gold, items and position, changed by an operator: `POST
//! /v1/admin/characters/{id}/gold|items|teleport` and `.../items/{item}/remove`. Each is the
//! store's admin transaction (the role checked, the log row with the operator and the reason),
//! refused with 409 `character_online` while a zone holds the character: kick it first.

use super::{character, failure, id, Op};
use crate::error::ApiFailure;
use crate::http::{AppState, Body};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_domain::{AdminPower, ItemDefId, ItemId, Position, Quantity, ZoneId};
use realmkeep_protocol::admin::{
    GoldChange, GoldChanged, ItemGrant, ItemGranted, Reasoned, Teleport,
};
use realmkeep_protocol::Reason;

#[utoipa::path(post, path = "/v1/admin/characters/{id}/gold", tag = "changes",
    params(("id" = i64, Path, description = "character id")), request_body = GoldChange,
    security(("operator" = [])),
    responses((status = 200, body = GoldChanged),
        (status = 403, description = "needs game_master", body = realmkeep_protocol::admin::AdminError),
        (status = 409, description = "the character is in the world", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn gold(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(g): Body<GoldChange>,
) -> Result<Json<GoldChanged>, ApiFailure> {
    op.require(AdminPower::Gold)?;
    let note = op.note(&g.reason)?;
    let c = character(&app, id(path)?).await?;
    let gold = app
        .store()
        .admin_adjust_gold(c, g.delta, &note)
        .await
        .map_err(failure)?;
    Ok(Json(GoldChanged { gold }))
}

#[utoipa::path(post, path = "/v1/admin/characters/{id}/items", tag = "changes",
    params(("id" = i64, Path, description = "character id")), request_body = ItemGrant,
    security(("operator" = [])),
    responses((status = 201, body = ItemGranted),
        (status = 403, description = "needs game_master", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn grant(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(g): Body<ItemGrant>,
) -> Result<(StatusCode, Json<ItemGranted>), ApiFailure> {
    op.require(AdminPower::Items)?;
    let note = op.note(&g.reason)?;
    let qty =
        Quantity::new(g.quantity).map_err(|e| ApiFailure::new(Reason::BadFields, e.to_string()))?;
    let c = character(&app, id(path)?).await?;
    let item = app
        .store()
        .admin_grant_item(c, ItemDefId(g.def), qty, &note)
        .await
        .map_err(failure)?;
    Ok((StatusCode::CREATED, Json(ItemGranted { item: item.0 })))
}

#[utoipa::path(post, path = "/v1/admin/characters/{id}/items/{item}/remove", tag = "changes",
    params(("id" = i64, Path, description = "character id"), ("item" = i64, Path, description = "item id in its bag")),
    request_body = Reasoned,
    security(("operator" = [])),
    responses((status = 204, description = "destroyed"),
        (status = 403, description = "needs game_master", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn remove(
    State(app): State<AppState>,
    op: Op,
    Path((c, item)): Path<(String, String)>,
    Body(r): Body<Reasoned>,
) -> Result<StatusCode, ApiFailure> {
    op.require(AdminPower::Items)?;
    let note = op.note(&r.reason)?;
    let c = character(&app, id(Path(c))?).await?;
    let item = id(Path(item))?;
    app.store()
        .admin_remove_item(c, ItemId(item), &note)
        .await
        .map_err(failure)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/characters/{id}/teleport", tag = "changes",
    params(("id" = i64, Path, description = "character id")), request_body = Teleport,
    security(("operator" = [])),
    responses((status = 204, description = "moved"),
        (status = 403, description = "needs game_master", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn teleport(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(t): Body<Teleport>,
) -> Result<StatusCode, ApiFailure> {
    op.require(AdminPower::Teleport)?;
    let note = op.note(&t.reason)?;
    let c = character(&app, id(path)?).await?;
    let p = Position {
        zone: ZoneId(t.zone),
        x: t.x,
        y: t.y,
        z: 0.0,
        rotation: 0.0,
    };
    app.store()
        .admin_teleport(c, p, &note)
        .await
        .map_err(failure)?;
    Ok(StatusCode::NO_CONTENT)
}
