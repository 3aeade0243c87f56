//! Operator actions on player data (the spec's "admin tools to inspect/modify player data").
//! Each is one transaction with a `game_logs` row naming the operator and the reason, each needs
//! its power of the operator's role (`AdminPower`). An operator never edits a character behind
//! its zone's back: a gold or item change of a character in the world is run by the zone that
//! holds it, under its claim (`admin_change` with `Actor::Zone`, sent as an `AdminOrder`), and
//! the same change out of the world is refused while a claim holds the character (`ClaimHeld`).
//! A teleport needs the character out of the world.

use crate::action_keys::{check_key, keep_in};
use crate::admin_accounts::Operator;
use crate::common::{add_gold, delete_item, grant_items, lock_actor, take_from_inventory};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::items::ops::belongings_in;
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

/// Runs `change` for `actor` (a zone's fence, or `Offline`: refused while a claim holds the
/// character) with its log row, and reads back what the character holds.
async fn change_in(
    tx: &mut PgConnection,
    actor: Actor,
    change: &AdminChange,
    note: &AdminNote,
) -> StoreResult<AdminReceipt> {
    let c = actor.character();
    lock_actor(tx, &actor).await?;
    let (event, item) = match *change {
        AdminChange::Gold { delta } => {
            add_gold(tx, c, delta).await?;
            (LogEvent::new("admin_gold").target(c.0).gold(delta), None)
        }
        AdminChange::Grant { def, quantity } => {
            let id = grant_items(tx, c, &[(def, quantity.get())], "admin").await?[0].item;
            let e = LogEvent::new("admin_grant_item")
                .target(c.0)
                .item(id.0, def.0, quantity.get());
            (e, Some(id))
        }
        AdminChange::Remove { item } => {
            let t = take_from_inventory(tx, c, item).await?;
            delete_item(tx, item).await?;
            let e = LogEvent::new("admin_remove_item")
                .target(c.0)
                .item(item.0, t.def_id, t.quantity);
            (e, None)
        }
        AdminChange::Teleport { x, y } => {
            // Within the zone the character is in (its zone moves it in the world after this
            // commits, and its next saves keep it there).
            let zone: i32 = sqlx::query_scalar(
                "UPDATE character_positions p SET x = $2, y = $3, updated_at = now()
                 FROM characters c
                 WHERE c.id = $1 AND p.character_id = c.id AND p.zone_id = c.zone_id
                 RETURNING p.zone_id",
            )
            .bind(c.0)
            .bind(x)
            .bind(y)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("teleport in the zone"))?
            .ok_or(Refusal::NotFound("the character's position"))?;
            (LogEvent::new("admin_teleport").target(c.0).zone(zone), None)
        }
    };
    write_in_tx(tx, &[event.details(note.json())]).await?;
    let gold: i64 = sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("read gold"))?;
    let held = belongings_in(tx, c).await?;
    Ok(AdminReceipt { gold, held, item })
}

/// Refuses what no role may do: a zero or out-of-range gold change, a point that is not a
/// finite number.
fn check_change(change: &AdminChange) -> StoreResult<()> {
    match *change {
        AdminChange::Gold { delta }
            if delta == 0 || delta.unsigned_abs() > realmkeep_domain::limits::GOLD_MAX as u64 =>
        {
            refuse!(Refusal::Invalid(
                "gold change must be non-zero and within the gold limit".into()
            ));
        }
        AdminChange::Teleport { x, y } if !(x.is_finite() && y.is_finite()) => {
            refuse!(Refusal::Invalid("position must be finite".into()));
        }
        _ => Ok(()),
    }
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

    /// Runs an operator's `change` in one transaction with its log row: as `actor` (the zone
    /// holding the character runs it with its fence; `Actor::Offline` is refused while a claim
    /// holds the character). With a `key`, the outcome is kept under it
    /// (`AdminOutcome::Applied`): whoever sent the order reads it with `admin_outcome`.
    pub async fn admin_change(
        &self,
        actor: Actor,
        change: &AdminChange,
        note: &AdminNote,
        key: Option<&str>,
    ) -> StoreResult<AdminReceipt> {
        note.operator().require(change.power())?;
        check_change(change)?;
        if let Some(k) = key {
            check_key(k)?;
        }
        in_tx!(self.conns(), |tx| async move {
            let r = change_in(tx, actor, change, note).await?;
            if let Some(k) = key {
                keep_in(tx, k, &AdminOutcome::Applied(r.clone())).await?;
            }
            Ok(r)
        })
    }

    /// Keeps a refusal of the order under `key`, so its sender hears why at once rather than
    /// after its wait. Does nothing if the key is already decided (or given up).
    pub async fn admin_refused(&self, key: &str, refusal: &Refusal) -> StoreResult<()> {
        check_key(key)?;
        let outcome = AdminOutcome::Refused {
            message: refusal.to_string(),
        };
        let value = serde_json::to_value(&outcome)
            .map_err(|e| crate::StoreError::Io(format!("admin outcome: {e}")))?;
        on_conn!(self.conns(), |conn| sqlx::query(
            "INSERT INTO action_keys (action_key, receipt) VALUES ($1, $2)
             ON CONFLICT (action_key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(conn))
        .map_err(db("keep admin refusal"))?;
        Ok(())
    }

    /// The outcome kept under an admin order's `key`, if it is decided yet (without waiting for
    /// a transaction still on its way: `settle_action` does that).
    pub async fn admin_outcome(&self, key: &str) -> StoreResult<Option<AdminOutcome>> {
        check_key(key)?;
        let v: Option<serde_json::Value> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT receipt FROM action_keys WHERE action_key = $1 AND receipt IS NOT NULL",
        )
        .bind(key)
        .fetch_optional(conn))
        .map_err(db("read admin outcome"))?;
        v.map(serde_json::from_value)
            .transpose()
            .map_err(|e| crate::StoreError::Io(format!("admin outcome under {key}: {e}")))
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
        in_tx!(self.conns(), |tx| teleport_in(tx, c, p, note))
    }
}
