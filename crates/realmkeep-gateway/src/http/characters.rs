//! `GET /v1/characters`, `POST /v1/characters`, `DELETE /v1/characters/{id}`: the caller's own
//! characters only.

use super::auth::Authed;
use super::{AppState, Body};
use crate::error::ApiFailure;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_domain::{CharacterId, CharacterName, Class, Kingdom};
use realmkeep_protocol::http::{CharacterRow, NewCharacter};
use realmkeep_protocol::Reason;
use realmkeep_store::characters::CharacterSummary;

fn row(c: CharacterSummary) -> CharacterRow {
    CharacterRow {
        id: c.id,
        name: c.name,
        class: c.class,
        kingdom: c.kingdom,
        level: c.level,
        zone: c.zone_id,
    }
}

pub(crate) async fn list(
    State(app): State<AppState>,
    who: Authed,
) -> Result<Json<Vec<CharacterRow>>, ApiFailure> {
    let rows = app.store().list_characters(who.account).await?;
    Ok(Json(rows.into_iter().map(row).collect()))
}

pub(crate) async fn create(
    State(app): State<AppState>,
    who: Authed,
    Body(n): Body<NewCharacter>,
) -> Result<(StatusCode, Json<CharacterRow>), ApiFailure> {
    let name = CharacterName::parse(&n.name)
        .map_err(|e| ApiFailure::new(Reason::BadName, e.to_string()))?;
    let class: Class = n
        .class
        .parse()
        .map_err(|e: realmkeep_domain::DomainError| {
            ApiFailure::new(Reason::BadFields, e.to_string())
        })?;
    let kingdom: Kingdom = n
        .kingdom
        .parse()
        .map_err(|e: realmkeep_domain::DomainError| {
            ApiFailure::new(Reason::BadFields, e.to_string())
        })?;
    let id = app
        .store()
        .create_character(who.account, &name, class, kingdom)
        .await?;
    let rows = app.store().list_characters(who.account).await?;
    let created = rows
        .into_iter()
        .find(|c| c.id == id.0)
        .ok_or_else(|| ApiFailure::new(Reason::Internal, "the new character is not listed"))?;
    tracing::info!(account = %who.account, character = %id, "character created");
    Ok((StatusCode::CREATED, Json(row(created))))
}

/// Deletes one of the caller's characters: refused while it is in the world (claimed). Its
/// items go with it, logged; the name is free again.
pub(crate) async fn remove(
    State(app): State<AppState>,
    who: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiFailure> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiFailure::new(Reason::BadFields, "a character id is a number"))?;
    app.store()
        .delete_character(who.account, CharacterId(id))
        .await?;
    tracing::info!(account = %who.account, character = id, "character deleted");
    Ok(StatusCode::NO_CONTENT)
}
