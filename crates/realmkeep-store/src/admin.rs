//! Operator actions on player data (the spec's "admin tools to inspect/modify player data").
//! Each is one transaction with a `game_logs` row naming the operator and the reason, each needs
//! its power of the operator's role (`AdminPower`), and each is refused while a zone holds the character (`ClaimHeld`): an operator never edits a character
//! behind its zone's back; kick or wait for logout first.

use crate::admin_accounts::Operator;
use crate::common::{add_gold, delete_item, grant_items, lock_actor, take_from_inventory};
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::*;
use sqlx::PgConnection;

/// Longest reason.
pub const ADMIN_TEXT_CHARS_MAX: usize = 500;

/// Who does it (an operator read from `admin_accounts`) and why, written to `game_logs`.
#[derive(Debug, Clone)]
pub struct AdminNote {
    operator: Operator,
    reason: String,
}

pub(crate) fn check_text(what: &str, s: &str) -> StoreResult<()> {
    if s.trim().is_empty() || s.chars().count() > ADMIN_TEXT_CHARS_MAX {
        refuse!(Refusal::Invalid(format!(
            "{what} must be 1 to {ADMIN_TEXT_CHARS_MAX} characters"
        )));
    }
    Ok(())
}

impl AdminNote {
    /// Refuses an empty or too long reason: every admin action says why.
    pub fn new(operator: Operator, reason: &str) -> StoreResult<Self> {
        check_text("reason", reason)?;
        Ok(Self {
            operator,
            reason: reason.trim().to_string(),
        })
    }
    pub fn operator(&self) -> &Operator {
        &self.operator
    }
    pub fn reason(&self) -> &str {
        &self.reason
    }
    /// What `game_logs.details` holds of it: the operator's name, id and role, and the reason.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "operator": self.operator.name(),
            "operator_id": self.operator.id(),
            "operator_role": self.operator.role(),
            "reason": self.reason,
        })
    }
}

async fn adjust_gold_in(
    tx: &mut PgConnection,
    c: CharacterId,
    delta: i64,
    note: &AdminNote,
) -> StoreResult<i64> {
    lock_actor(tx, &Actor::Offline(c)).await?;
    let g = add_gold(tx, c, delta).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("admin_gold")
            .target(c.0)
            .gold(delta)
            .details(note.json())],
    )
    .await?;
    Ok(g)
}

async fn grant_in(
    tx: &mut PgConnection,
    c: CharacterId,
    def: ItemDefId,
    qty: Quantity,
    note: &AdminNote,
) -> StoreResult<ItemId> {
    lock_actor(tx, &Actor::Offline(c)).await?;
    let id = grant_items(tx, c, &[(def, qty.get())], "admin").await?[0].item;
    write_in_tx(
        tx,
        &[LogEvent::new("admin_grant_item")
            .target(c.0)
            .item(id.0, def.0, qty.get())
            .details(note.json())],
    )
    .await?;
    Ok(id)
}

async fn remove_in(
    tx: &mut PgConnection,
    c: CharacterId,
    item: ItemId,
    note: &AdminNote,
) -> StoreResult<()> {
    lock_actor(tx, &Actor::Offline(c)).await?;
    let t = take_from_inventory(tx, c, item).await?;
    delete_item(tx, item).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("admin_remove_item")
            .target(c.0)
            .item(item.0, t.def_id, t.quantity)
            .details(note.json())],
    )
    .await?;
    Ok(())
}

async fn teleport_in(
    tx: &mut PgConnection,
    c: CharacterId,
    p: Position,
    note: &AdminNote,
) -> StoreResult<()> {
    lock_actor(tx, &Actor::Offline(c)).await?;
    let zone_ok: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM zone_definitions WHERE id = $1)")
            .bind(p.zone.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("zone lookup"))?;
    if !zone_ok {
        refuse!(Refusal::NotFound("zone"));
    }
    sqlx::query("UPDATE characters SET zone_id = $2 WHERE id = $1")
        .bind(c.0)
        .bind(p.zone.0)
        .execute(&mut *tx)
        .await
        .map_err(db("teleport"))?;
    sqlx::query(
        "INSERT INTO character_positions (character_id, zone_id, x, y, z, rotation) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (character_id, zone_id) DO UPDATE SET x = EXCLUDED.x, y = EXCLUDED.y, z = EXCLUDED.z,
             rotation = EXCLUDED.rotation, updated_at = now()",
    )
    .bind(c.0)
    .bind(p.zone.0)
    .bind(p.x)
    .bind(p.y)
    .bind(p.z)
    .bind(p.rotation)
    .execute(&mut *tx)
    .await
    .map_err(db("teleport position"))?;
    write_in_tx(
        tx,
        &[LogEvent::new("admin_teleport")
            .target(c.0)
            .zone(p.zone.0)
            .details(note.json())],
    )
    .await?;
    Ok(())
}

impl Store {
    /// Records an operator's action that changes nothing in PostgreSQL (a kick, an announcement)
    /// once the operator's role allows `power`: the `game_logs` row of `event_type`, on `target`
    /// if given, with the operator, the reason and `extra` in its details. Called before the
    /// action goes out, so an action refused here never happens.
    pub async fn admin_record(
        &self,
        note: &AdminNote,
        power: AdminPower,
        event_type: &str,
        target: Option<CharacterId>,
        extra: serde_json::Value,
    ) -> StoreResult<()> {
        note.operator().require(power)?;
        let mut details = note.json();
        details["action"] = extra;
        let mut e = LogEvent::new(event_type).details(details);
        if let Some(c) = target {
            e = e.target(c.0);
        }
        self.append_logs(&[e]).await
    }

    /// Adds (or with a negative `delta`, takes) gold. Returns the new purse.
    pub async fn admin_adjust_gold(
        &self,
        c: CharacterId,
        delta: i64,
        note: &AdminNote,
    ) -> StoreResult<i64> {
        note.operator().require(AdminPower::Gold)?;
        if delta == 0 || delta.unsigned_abs() > realmkeep_domain::limits::GOLD_MAX as u64 {
            refuse!(Refusal::Invalid(
                "gold change must be non-zero and within the gold limit".into()
            ));
        }
        in_tx!(self.pool(), |tx| adjust_gold_in(tx, c, delta, note))
    }

    /// Creates an item in the character's bag.
    pub async fn admin_grant_item(
        &self,
        c: CharacterId,
        def: ItemDefId,
        qty: Quantity,
        note: &AdminNote,
    ) -> StoreResult<ItemId> {
        note.operator().require(AdminPower::Items)?;
        in_tx!(self.pool(), |tx| grant_in(tx, c, def, qty, note))
    }

    /// Destroys an item in the character's bag.
    pub async fn admin_remove_item(
        &self,
        c: CharacterId,
        item: ItemId,
        note: &AdminNote,
    ) -> StoreResult<()> {
        note.operator().require(AdminPower::Items)?;
        in_tx!(self.pool(), |tx| remove_in(tx, c, item, note))
    }

    /// Moves a character that is not in the world to a zone and point.
    pub async fn admin_teleport(
        &self,
        c: CharacterId,
        p: Position,
        note: &AdminNote,
    ) -> StoreResult<()> {
        note.operator().require(AdminPower::Teleport)?;
        if !(p.x.is_finite() && p.y.is_finite() && p.z.is_finite() && p.rotation.is_finite()) {
            refuse!(Refusal::Invalid("position must be finite".into()));
        }
        in_tx!(self.pool(), |tx| teleport_in(tx, c, p, note))
    }
}
