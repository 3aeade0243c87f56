//! Operators' actions on players in the world: `POST /v1/admin/accounts/{id}/kick|ban|unban` and
//! `POST /v1/admin/broadcasts`. The kick and the announcement are the server crate's `admin`
//! (what `realmkeep admin kick|ban|announce` send): sessions revoked and `kicked` sent to the
//! account's characters in the world (live on their channel and into their inbox), so a
//! connected player is closed (4002 for a ban) on whichever node holds it. Each is logged in
//! `game_logs` with the operator and the reason before it goes out.

use super::{failure, id, Op};
use crate::error::ApiFailure;
use crate::http::{AppState, Body};
use axum::extract::{Path, State};
use axum::Json;
use realmkeep_domain::{AccountId, AdminPower};
use realmkeep_protocol::admin::{
    BanIssued, BanRequest, Broadcast, BroadcastSent, KickResult, Reasoned, Unbanned,
};
use realmkeep_protocol::Reason;
use realmkeep_server::admin::{Announcement, Kicked, WorldError};
use realmkeep_store::bans::BanTarget;

/// The longest ban an operator may give with an end (ten years; without `hours` it is forever).
const BAN_HOURS_MAX: i64 = 10 * 365 * 24;

fn kicked(k: Kicked) -> KickResult {
    KickResult {
        characters: k.characters as u64,
        live: k.live,
    }
}

async fn account(app: &AppState, raw: Path<String>) -> Result<AccountId, ApiFailure> {
    let a = AccountId(id(raw)?);
    app.store().account_info(a).await.map_err(failure)?;
    Ok(a)
}

fn world_failure(e: WorldError) -> ApiFailure {
    match e {
        WorldError::Text => ApiFailure::new(Reason::BadText, e.to_string()),
        e => {
            tracing::warn!(error = %e, "an operator's action did not reach the world");
            ApiFailure::try_again()
        }
    }
}

#[utoipa::path(post, path = "/v1/admin/accounts/{id}/kick", tag = "world",
    params(("id" = i64, Path, description = "account id")), request_body = Reasoned,
    security(("operator" = [])),
    responses((status = 200, body = KickResult),
        (status = 503, description = "Redis unreachable: nothing was sent (the log row stays)", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn kick(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(r): Body<Reasoned>,
) -> Result<Json<KickResult>, ApiFailure> {
    op.require(AdminPower::Kick)?;
    let note = op.note(&r.reason)?;
    let a = account(&app, path).await?;
    let extra = serde_json::json!({ "account_id": a });
    app.store()
        .admin_record(&note, AdminPower::Kick, "admin_kick", None, extra)
        .await
        .map_err(failure)?;
    let k = realmkeep_server::admin::kick_account(app.store(), app.cache(), a, note.reason())
        .await
        .map_err(world_failure)?;
    Ok(Json(kicked(k)))
}

#[utoipa::path(post, path = "/v1/admin/accounts/{id}/ban", tag = "world",
    params(("id" = i64, Path, description = "account id")), request_body = BanRequest,
    security(("operator" = [])),
    responses((status = 200, body = BanIssued)))]
pub(crate) async fn ban(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(b): Body<BanRequest>,
) -> Result<Json<BanIssued>, ApiFailure> {
    op.require(AdminPower::Ban)?;
    let note = op.note(&b.reason)?;
    if b.hours.is_some_and(|h| !(1..=BAN_HOURS_MAX).contains(&h)) {
        return Err(ApiFailure::new(
            Reason::BadFields,
            format!("hours must be 1 to {BAN_HOURS_MAX} (none: permanent)"),
        ));
    }
    let a = account(&app, path).await?;
    let expires = b
        .hours
        .map(|h| chrono::Utc::now() + chrono::Duration::hours(h));
    let ban = app
        .store()
        .admin_ban(BanTarget::Account(a), &note, expires)
        .await
        .map_err(failure)?;
    let reason = format!("banned: {}", note.reason());
    let kicked = match realmkeep_server::admin::kick_account(app.store(), app.cache(), a, &reason)
        .await
    {
        Ok(k) => Some(kicked(k)),
        Err(e) => {
            tracing::warn!(error = %e, ban = %ban, "ban in force, but its kick did not reach the world");
            None
        }
    };
    Ok(Json(BanIssued { ban: ban.0, kicked }))
}

#[utoipa::path(post, path = "/v1/admin/accounts/{id}/unban", tag = "world",
    params(("id" = i64, Path, description = "account id")), request_body = Reasoned,
    security(("operator" = [])),
    responses((status = 200, body = Unbanned),
        (status = 404, description = "no ban in force", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn unban(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
    Body(r): Body<Reasoned>,
) -> Result<Json<Unbanned>, ApiFailure> {
    op.require(AdminPower::Ban)?;
    let note = op.note(&r.reason)?;
    let a = account(&app, path).await?;
    let revoked = app
        .store()
        .admin_unban(BanTarget::Account(a), &note)
        .await
        .map_err(failure)?;
    Ok(Json(Unbanned { revoked }))
}

#[utoipa::path(post, path = "/v1/admin/broadcasts", tag = "world", request_body = Broadcast,
    security(("operator" = [])),
    responses((status = 200, body = BroadcastSent),
        (status = 400, description = "empty or too long text", body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn broadcast(
    State(app): State<AppState>,
    op: Op,
    Body(b): Body<Broadcast>,
) -> Result<Json<BroadcastSent>, ApiFailure> {
    op.require(AdminPower::Broadcast)?;
    let a = Announcement {
        text: b.text.clone(),
        maintenance_in_minutes: b.maintenance_in_minutes,
    };
    let text = b.text.trim();
    if text.is_empty() || text.chars().count() > realmkeep_cache::CHAT_TEXT_CHARS_MAX {
        return Err(world_failure(WorldError::Text));
    }
    let note = op.note(text)?;
    let extra = serde_json::json!({ "maintenance_in_minutes": b.maintenance_in_minutes });
    app.store()
        .admin_record(&note, AdminPower::Broadcast, "admin_announce", None, extra)
        .await
        .map_err(failure)?;
    let receivers = realmkeep_server::admin::announce(app.cache(), &a)
        .await
        .map_err(world_failure)?;
    Ok(Json(BroadcastSent { receivers }))
}
