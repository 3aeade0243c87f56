//! `GET /v1/admin/players?q=` (search by character or account name), `GET
//! /v1/admin/characters/{id}` (the character page), and the character's marketplace listings
//! and mailbox. Reading needs the `Read` power (every role).

use super::{character, failure, id, rfc3339, Op, Query};
use crate::error::ApiFailure;
use crate::http::AppState;
use axum::extract::{Path, State};
use axum::Json;
use realmkeep_domain::{AccountId, AdminPower};
use realmkeep_protocol::admin::{
    BagItem, CharacterPage, HolderView, ListingView, MailView, PlayerHit, PlayerSearch,
    PositionView, QuestView, SessionsView, SkillView, WornItem,
};
use realmkeep_store::market::MarketQuery;

/// Rows of a search when the query does not say.
const SEARCH_ROWS_DEFAULT: i64 = 20;

#[utoipa::path(get, path = "/v1/admin/players", tag = "players", params(PlayerSearch),
    security(("operator" = [])),
    responses((status = 200, body = Vec<PlayerHit>),
        (status = 400, body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn search(
    State(app): State<AppState>,
    op: Op,
    Query(q): Query<PlayerSearch>,
) -> Result<Json<Vec<PlayerHit>>, ApiFailure> {
    op.require(AdminPower::Read)?;
    let rows = app
        .store()
        .admin_search_players(&q.q, q.limit.unwrap_or(SEARCH_ROWS_DEFAULT))
        .await
        .map_err(failure)?;
    Ok(Json(
        rows.into_iter()
            .map(|r| PlayerHit {
                character_id: r.character_id,
                character: r.character,
                account_id: r.account_id,
                account: r.account,
                level: r.level,
                zone: r.zone_id,
                deleted: r.deleted,
            })
            .collect(),
    ))
}

/// `zone-<id>/<node>/<nonce>` (the server's `holder_name`): the zone and the node.
fn holder_parts(holder: &str) -> (Option<i32>, Option<String>) {
    let mut parts = holder.splitn(3, '/');
    let zone = parts
        .next()
        .and_then(|z| z.strip_prefix("zone-"))
        .and_then(|z| z.parse().ok());
    let node = parts.next().map(str::to_string);
    (zone, node)
}

#[utoipa::path(get, path = "/v1/admin/characters/{id}", tag = "players",
    params(("id" = i64, Path, description = "character id")),
    security(("operator" = [])),
    responses((status = 200, body = CharacterPage),
        (status = 404, body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn page(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
) -> Result<Json<CharacterPage>, ApiFailure> {
    op.require(AdminPower::Read)?;
    let c = character(&app, id(path)?).await?;
    let store = app.store();
    let claim = store.claim_info(c).await.map_err(failure)?;
    let l = store.load_character(c).await.map_err(failure)?;
    let account = store.account_info(l.account).await.map_err(failure)?;
    let banned = store
        .active_ban(Some(AccountId(account.id)), None)
        .await
        .map_err(failure)?
        .is_some();
    let presence = app.cache().presence().lookup(c).await.value;
    let (zone, node) = match (&claim.holder, claim.live) {
        (Some(h), true) => holder_parts(h),
        _ => (None, None),
    };
    Ok(Json(CharacterPage {
        id: c.0,
        name: l.name.to_string(),
        account_id: account.id,
        account: account.username,
        class: l.class.as_str().to_string(),
        kingdom: l.kingdom.as_str().to_string(),
        level: l.level,
        xp: l.xp,
        gold: l.gold,
        health: l.health,
        mana: l.mana,
        strength: l.attributes.strength,
        agility: l.attributes.agility,
        intellect: l.attributes.intellect,
        stamina: l.attributes.stamina,
        pvp_kills: l.pvp_kills,
        guild: l.guild.map(|g| g.0),
        position: PositionView {
            zone: l.position.zone.0,
            x: l.position.x,
            y: l.position.y,
        },
        bag: l
            .inventory
            .iter()
            .map(|i| BagItem {
                item: i.item.0,
                def: i.def.0,
                quantity: i.quantity,
                slot: i.slot,
            })
            .collect(),
        equipment: l
            .equipment
            .iter()
            .map(|e| WornItem {
                item: e.item.0,
                def: e.def.0,
                slot: e.slot.as_str().to_string(),
            })
            .collect(),
        skills: l
            .skills
            .iter()
            .map(|s| SkillView {
                skill: s.skill.0,
                level: s.level,
            })
            .collect(),
        quests: l
            .quests
            .iter()
            .map(|q| QuestView {
                quest: q.quest.0,
                status: q.status.as_str().to_string(),
                progress: q.progress,
            })
            .collect(),
        holder: HolderView {
            in_world: claim.live,
            claim_epoch: claim.epoch,
            node,
            zone,
            lease_expires_at: claim.expires_at.filter(|_| claim.live).map(rfc3339),
            presence_zone: presence.as_ref().map(|p| p.zone.0),
            presence_node: presence.map(|p| p.node.to_string()),
        },
        sessions: SessionsView {
            last_login_at: account.last_login_at.map(rfc3339),
            banned,
        },
    }))
}

#[utoipa::path(get, path = "/v1/admin/characters/{id}/market", tag = "players",
    params(("id" = i64, Path, description = "character id")),
    security(("operator" = [])),
    responses((status = 200, description = "the character's listings, cheapest first (at most a page)", body = Vec<ListingView>)))]
pub(crate) async fn market(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
) -> Result<Json<Vec<ListingView>>, ApiFailure> {
    op.require(AdminPower::Read)?;
    let c = character(&app, id(path)?).await?;
    let page = app
        .store()
        .search_market(&MarketQuery {
            seller: Some(c),
            ..MarketQuery::default()
        })
        .await
        .map_err(failure)?;
    Ok(Json(
        page.rows
            .into_iter()
            .map(|r| ListingView {
                listing: r.listing_id,
                item: r.item_id,
                item_def: r.item_def_id,
                item_name: r.item_name,
                quantity: r.quantity,
                price: r.price,
                expires_at: rfc3339(r.expires_at),
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/v1/admin/characters/{id}/mail", tag = "players",
    params(("id" = i64, Path, description = "character id")),
    security(("operator" = [])),
    responses((status = 200, description = "the character's mailbox", body = Vec<MailView>)))]
pub(crate) async fn mail(
    State(app): State<AppState>,
    op: Op,
    path: Path<String>,
) -> Result<Json<Vec<MailView>>, ApiFailure> {
    op.require(AdminPower::Read)?;
    let c = character(&app, id(path)?).await?;
    let rows = app.store().list_mail(c).await.map_err(failure)?;
    Ok(Json(
        rows.into_iter()
            .map(|m| MailView {
                mail: m.id.0,
                kind: serde_json::to_value(m.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                sender: m.sender.map(|s| s.0),
                sender_name: m.sender_name,
                subject: m.subject,
                gold: m.gold,
                items: m.items,
                sent_at: rfc3339(m.sent_at),
                expires_at: rfc3339(m.expires_at),
                read: m.read,
                claimed: m.claimed,
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_holder_names_its_zone_and_node() {
        assert_eq!(
            super::holder_parts("zone-2/north/00000000000000ff"),
            (Some(2), Some("north".into()))
        );
        assert_eq!(super::holder_parts("odd"), (None, None));
    }
}
