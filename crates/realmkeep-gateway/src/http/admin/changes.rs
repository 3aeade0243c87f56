//! A character's gold, items and position, changed by an operator: `POST
//! /v1/admin/characters/{id}/gold|items|teleport` and `.../items/{item}/remove`. Each is the
//! store's admin transaction (the role checked, the log row with the operator and the reason).
//! Gold, items and a teleport within the character's zone change live, through the zone holding
//! a character in the world (`live.rs`); a teleport of a character in the world to another zone
//! is refused with 409 `character_online` (kick it first).

use super::{character, failure, id, live, Op};
use crate::error::ApiFailure;
use crate::http::{AppState, Body};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{AdminChange, AdminPower, ItemDefId, ItemId, Position, Quantity, ZoneId};
use realmkeep_protocol::admin::{
    GoldChange, GoldChanged, ItemGrant, ItemGranted, Reasoned, Teleport,
};
use realmkeep_protocol::Reason;
use realmkeep_store::StoreError;

#[utoipa::path(post, path = "/v1/admin/characters/{id}/gold", tag = "changes",
    params(("id" = i64, Path, description = "character id")), request_body = GoldChange,
    security(("operator" = [])),
    responses((status = 200, body = GoldChanged),
        (status = 403, description = "needs game_master", body = realmkeep_protocol::admin::AdminError),
        (status = 400, description = "refused by the game's rules (overdraft, purse limit)", body = realmkeep_protocol::admin::AdminError),
        (status = 503, description = "the zone holding the character did not apply it in time: nothing changed", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn gold(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(g): Body<GoldChange>,
) -> Result<Json<GoldChanged>, ApiFailure> {
    op.require(AdminPower::Gold)?;
    let note = op.note(&g.reason)?;
    let c = character(&app, id(path)?).await?;
    let r = live::change(&app, c, AdminChange::Gold { delta: g.delta }, &note).await?;
    Ok(Json(GoldChanged { gold: r.gold }))
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
    let change = AdminChange::Grant {
        def: ItemDefId(g.def),
        quantity: qty,
    };
    let r = live::change(&app, c, change, &note).await?;
    let item = r
        .item
        .ok_or_else(|| ApiFailure::new(Reason::Internal, "a grant without its item"))?;
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
    let change = AdminChange::Remove { item: ItemId(item) };
    live::change(&app, c, change, &note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/admin/characters/{id}/teleport", tag = "changes",
    params(("id" = i64, Path, description = "character id")), request_body = Teleport,
    security(("operator" = [])),
    responses((status = 204, description = "moved"),
        (status = 403, description = "needs game_master", body = realmkeep_protocol::admin::AdminError),
        (status = 409, description = "in the world in another zone: kick it first", body = realmkeep_protocol::admin::AdminError)))]
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
    match app.store().admin_teleport(c, p, &note).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        // In the world: its zone moves it, within that zone.
        Err(StoreError::Refused(Refusal::ClaimHeld)) => {
            let here = app.store().load_character(c).await.map_err(failure)?;
            if here.position.zone != p.zone {
                return Err(ApiFailure::new(
                    Reason::CharacterOnline,
                    format!(
                        "the character is in the world in zone {}: a live teleport stays within its zone; kick it first to move it to another",
                        here.position.zone.0
                    ),
                ));
            }
            let change = AdminChange::Teleport { x: p.x, y: p.y };
            live::change(&app, c, change, &note).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        Err(e) => Err(failure(e)),
    }
}
