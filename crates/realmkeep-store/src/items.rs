//! Items in a character's hands: loot pickup (an item comes into the world), equip, unequip,
//! move, split, stack and destroy. Each is one transaction, fenced by the actor's claim; `ops.rs`
//! runs one of them as a player's keyed action (`Store::item_op_keyed`).

pub(crate) mod ops;

use crate::characters::InventoryItem;
use crate::common::{
    create_item, delete_item, free_slots, item_def, lock_actor, place_in_inventory, relocate,
    take_from_inventory,
};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::limits::GOLD_MAX;
use realmkeep_domain::*;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// Longest origin tag of a picked-up item ("monster:12", "chest:4").
pub const ORIGIN_CHARS_MAX: usize = 64;
/// Longest loot key.
pub const LOOT_KEY_CHARS_MAX: usize = 160;
/// How long a loot key is kept: loot lies on the ground for 60 s, so an hour is ample. Older keys
/// are pruned by the node's job scheduler (`Store::prune_keys_at`).
pub const LOOT_KEY_RETENTION_SECS: f64 = 3_600.0;
/// Gold one loot pickup may carry.
pub const LOOT_GOLD_MAX: i64 = 1_000_000;

/// What a pickup did: merged into existing stacks, and/or made a new stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickedUp {
    /// Stacks that grew, with their new quantity.
    pub merged: Vec<(ItemId, i32)>,
    /// The new stack, if what was left did not fit into existing ones.
    pub created: Option<InventoryItem>,
}

/// What an equip did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Equipped {
    pub slot: EquipSlot,
    /// The item that was in the slot before, now in the bag where the equipped item was.
    pub swapped_out: Option<ItemId>,
}

async fn inventory_item(
    tx: &mut PgConnection,
    character: CharacterId,
    item: ItemId,
) -> StoreResult<(i16, i32, i32)> {
    let row: Option<(i16, i32, i32)> = sqlx::query_as(
        "SELECT inv.slot, i.def_id, i.quantity FROM inventories inv JOIN item_instances i ON i.id = inv.item_id
         WHERE inv.character_id = $1 AND inv.item_id = $2 FOR UPDATE OF inv, i",
    )
    .bind(character.0)
    .bind(item.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("inventory item"))?;
    row.ok_or(crate::StoreError::Refused(Refusal::ItemNotOwned))
}

type PickupRow = (Vec<i64>, Vec<i32>, Option<i64>, Option<i16>, Option<i32>);

/// A pickup as one statement (the server-side function `realmkeep_pickup` in `pickup.sql`, its
/// own transaction), run again after a serialization failure or deadlock. `key`: the loot is
/// taken at most once under it.
#[allow(clippy::too_many_arguments)]
async fn pickup_call(
    conns: &crate::conns::Conns,
    actor: Actor,
    def: ItemDefId,
    quantity: Quantity,
    zone: Option<ZoneId>,
    origin: &str,
    key: Option<&str>,
) -> StoreResult<PickedUp> {
    let epoch = match actor {
        Actor::Zone(f) => Some(f.epoch.0),
        Actor::Offline(_) => None,
    };
    let c = actor.character();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let r: Result<PickupRow, sqlx::Error> = on_conn!(conns, |conn| sqlx::query_as(
            "SELECT * FROM realmkeep_pickup($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(c.0)
        .bind(epoch)
        .bind(def.0)
        .bind(quantity.get())
        .bind(zone.map(|z| z.0))
        .bind(origin)
        .bind(key)
        .bind(realmkeep_domain::limits::INVENTORY_SLOTS as i32)
        .fetch_one(conn));
        match r {
            Ok((ids, qtys, created, slot, qty)) => {
                let created = match (created, slot, qty) {
                    (Some(item), Some(slot), Some(quantity)) => Some(InventoryItem {
                        item: ItemId(item),
                        def,
                        quantity,
                        slot,
                    }),
                    _ => None,
                };
                return Ok(PickedUp {
                    merged: ids.into_iter().map(ItemId).zip(qtys).collect(),
                    created,
                });
            }
            Err(e) => {
                // A refusal (its own SQLSTATE) becomes `Refused` in `db`; it is not retryable.
                if crate::error::is_retryable_sqlx(&e)
                    && attempt < realmkeep_domain::limits::TX_RETRIES_MAX
                {
                    tokio::time::sleep(crate::tx::retry_backoff(attempt)).await;
                    continue;
                }
                return Err(db("pickup")(e));
            }
        }
    }
}

async fn loot_gold_in(
    tx: &mut PgConnection,
    actor: Actor,
    amount: i64,
    zone: Option<ZoneId>,
) -> StoreResult<i64> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    let gold = crate::common::add_gold(tx, c, amount).await?;
    let mut ev = LogEvent::new("loot_gold").actor(c.0).gold(amount);
    ev.zone_id = zone.map(|z| z.0);
    write_in_tx(tx, &[ev]).await?;
    Ok(gold)
}

async fn equip_in(tx: &mut PgConnection, actor: Actor, item: ItemId) -> StoreResult<Equipped> {
    let me = lock_actor(tx, &actor).await?;
    let c = actor.character();
    let (bag_slot, def_id, _) = inventory_item(tx, c, item).await?;
    let d = item_def(tx, ItemDefId(def_id)).await?;
    let Some(slot) = d.equip_slot.as_deref() else {
        refuse!(Refusal::NotAllowed("that item cannot be equipped"))
    };
    if me.level < d.level_req {
        refuse!(Refusal::NotAllowed("level too low for that item"));
    }
    let slot: EquipSlot = slot.parse()?;
    let old: Option<i64> = sqlx::query_scalar(
        "DELETE FROM equipment WHERE character_id = $1 AND slot = $2 RETURNING item_id",
    )
    .bind(c.0)
    .bind(slot.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("unequip old"))?;
    take_from_inventory(tx, c, item).await?;
    relocate(tx, item, "equipment").await?;
    sqlx::query("INSERT INTO equipment (character_id, slot, item_id) VALUES ($1, $2, $3)")
        .bind(c.0)
        .bind(slot.as_str())
        .bind(item.0)
        .execute(&mut *tx)
        .await
        .map_err(db("equip"))?;
    if let Some(old) = old {
        place_in_inventory(tx, c, bag_slot, ItemId(old)).await?;
    }
    write_in_tx(
        tx,
        &[LogEvent::new("equip")
            .actor(c.0)
            .item(item.0, def_id, 1)
            .details(serde_json::json!({
                "slot": slot.as_str(), "swapped_out": old,
            }))],
    )
    .await?;
    Ok(Equipped {
        slot,
        swapped_out: old.map(ItemId),
    })
}

async fn unequip_in(
    tx: &mut PgConnection,
    actor: Actor,
    slot: EquipSlot,
    to: Option<InventorySlot>,
) -> StoreResult<InventoryItem> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    let to = match to {
        Some(s) => s.get(),
        None => free_slots(tx, c, 1).await?[0],
    };
    let row: Option<(i64, i32, i32)> = sqlx::query_as(
        "WITH gone AS (DELETE FROM equipment WHERE character_id = $1 AND slot = $2 RETURNING item_id)
         SELECT i.id, i.def_id, i.quantity FROM gone JOIN item_instances i ON i.id = gone.item_id",
    )
    .bind(c.0)
    .bind(slot.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("unequip"))?;
    let Some((id, def, qty)) = row else {
        refuse!(Refusal::NotFound("equipped item"))
    };
    place_in_inventory(tx, c, to, ItemId(id)).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("unequip").actor(c.0).item(id, def, qty)],
    )
    .await?;
    Ok(InventoryItem {
        item: ItemId(id),
        def: ItemDefId(def),
        quantity: qty,
        slot: to,
    })
}

async fn move_in(
    tx: &mut PgConnection,
    actor: Actor,
    item: ItemId,
    to: InventorySlot,
) -> StoreResult<Option<ItemId>> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    let (from, _, _) = inventory_item(tx, c, item).await?;
    if from == to.get() {
        return Ok(None);
    }
    let other: Option<i64> = sqlx::query_scalar(
        "DELETE FROM inventories WHERE character_id = $1 AND slot = $2 RETURNING item_id",
    )
    .bind(c.0)
    .bind(to.get())
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("move: clear target"))?;
    sqlx::query("UPDATE inventories SET slot = $3 WHERE character_id = $1 AND item_id = $2")
        .bind(c.0)
        .bind(item.0)
        .bind(to.get())
        .execute(&mut *tx)
        .await
        .map_err(db("move"))?;
    if let Some(o) = other {
        place_in_inventory(tx, c, from, ItemId(o)).await?;
    }
    Ok(other.map(ItemId))
}

async fn split_in(
    tx: &mut PgConnection,
    actor: Actor,
    item: ItemId,
    quantity: Quantity,
    to: InventorySlot,
) -> StoreResult<ItemId> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    let (_, def, have) = inventory_item(tx, c, item).await?;
    if quantity.get() >= have {
        refuse!(Refusal::Invalid(format!(
            "cannot split {} off a stack of {have}",
            quantity.get()
        )));
    }
    sqlx::query("UPDATE item_instances SET quantity = quantity - $2 WHERE id = $1")
        .bind(item.0)
        .bind(quantity.get())
        .execute(&mut *tx)
        .await
        .map_err(db("split"))?;
    let new = create_item(tx, ItemDefId(def), quantity.get(), "inventory", "split").await?;
    place_in_inventory(tx, c, to.get(), new).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("split")
            .actor(c.0)
            .item(new.0, def, quantity.get())
            .details(serde_json::json!({"from": item.0}))],
    )
    .await?;
    Ok(new)
}

async fn stack_in(
    tx: &mut PgConnection,
    actor: Actor,
    from: ItemId,
    onto: ItemId,
) -> StoreResult<i32> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    if from == onto {
        refuse!(Refusal::Invalid("cannot stack an item onto itself".into()));
    }
    let (_, def_a, qa) = inventory_item(tx, c, from).await?;
    let (_, def_b, qb) = inventory_item(tx, c, onto).await?;
    if def_a != def_b {
        refuse!(Refusal::Invalid("only items of one kind stack".into()));
    }
    let d = item_def(tx, ItemDefId(def_a)).await?;
    let moved = qa.min(d.max_stack - qb);
    if moved <= 0 {
        refuse!(Refusal::Invalid("that stack is full".into()));
    }
    sqlx::query("UPDATE item_instances SET quantity = quantity + $2 WHERE id = $1")
        .bind(onto.0)
        .bind(moved)
        .execute(&mut *tx)
        .await
        .map_err(db("stack onto"))?;
    if moved == qa {
        take_from_inventory(tx, c, from).await?;
        delete_item(tx, from).await?;
    } else {
        sqlx::query("UPDATE item_instances SET quantity = quantity - $2 WHERE id = $1")
            .bind(from.0)
            .bind(moved)
            .execute(&mut *tx)
            .await
            .map_err(db("stack from"))?;
    }
    Ok(qb + moved)
}

async fn destroy_in(tx: &mut PgConnection, actor: Actor, item: ItemId) -> StoreResult<()> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    let taken = take_from_inventory(tx, c, item).await?;
    delete_item(tx, item).await?;
    write_in_tx(
        tx,
        &[LogEvent::new("destroy")
            .actor(c.0)
            .item(item.0, taken.def_id, taken.quantity)],
    )
    .await?;
    Ok(())
}

impl Store {
    /// Puts looted items into the actor's bag, filling existing stacks first. The item comes into
    /// existence here, in the same transaction that places it.
    pub async fn pickup_loot(
        &self,
        actor: Actor,
        def: ItemDefId,
        quantity: Quantity,
        zone: Option<ZoneId>,
        origin: &str,
    ) -> StoreResult<PickedUp> {
        if origin.is_empty() || origin.len() > ORIGIN_CHARS_MAX {
            refuse!(Refusal::Invalid(format!(
                "origin must be 1 to {ORIGIN_CHARS_MAX} bytes"
            )));
        }
        pickup_call(self.conns(), actor, def, quantity, zone, origin, None).await
    }

    /// `pickup_loot` for loot on the ground, identified by `key` (unique for the loot, e.g. the
    /// zone's claim holder and the loot's entity): exactly once. Tried again after a commit whose
    /// answer was lost, it answers done and creates nothing; for another character it refuses.
    #[allow(clippy::too_many_arguments)]
    pub async fn pickup_loot_once(
        &self,
        actor: Actor,
        def: ItemDefId,
        quantity: Quantity,
        zone: Option<ZoneId>,
        origin: &str,
        key: &str,
    ) -> StoreResult<PickedUp> {
        if origin.is_empty() || origin.len() > ORIGIN_CHARS_MAX {
            refuse!(Refusal::Invalid(format!(
                "origin must be 1 to {ORIGIN_CHARS_MAX} bytes"
            )));
        }
        if key.is_empty() || key.len() > LOOT_KEY_CHARS_MAX {
            refuse!(Refusal::Invalid(format!(
                "loot key must be 1 to {LOOT_KEY_CHARS_MAX} bytes"
            )));
        }
        pickup_call(self.conns(), actor, def, quantity, zone, origin, Some(key)).await
    }

    /// Adds looted gold to the actor's purse. Returns the new purse.
    pub async fn loot_gold(
        &self,
        actor: Actor,
        amount: i64,
        zone: Option<ZoneId>,
    ) -> StoreResult<i64> {
        if !(1..=LOOT_GOLD_MAX.min(GOLD_MAX)).contains(&amount) {
            refuse!(Refusal::Invalid(format!(
                "loot gold must be 1 to {LOOT_GOLD_MAX}"
            )));
        }
        in_tx!(self.conns(), |tx| loot_gold_in(tx, actor, amount, zone))
    }

    /// `loot_gold` under an idempotency key: gold retried after a lost answer is paid once, and
    /// the answer is the purse the first attempt committed.
    pub async fn loot_gold_keyed(
        &self,
        actor: Actor,
        amount: i64,
        zone: Option<ZoneId>,
        key: &str,
    ) -> StoreResult<i64> {
        crate::action_keys::check_key(key)?;
        if !(1..=LOOT_GOLD_MAX.min(GOLD_MAX)).contains(&amount) {
            refuse!(Refusal::Invalid(format!(
                "loot gold must be 1 to {LOOT_GOLD_MAX}"
            )));
        }
        in_tx!(self.conns(), |tx| async move {
            let gold = loot_gold_in(tx, actor, amount, zone).await?;
            crate::action_keys::keep_in(tx, key, &gold).await?;
            Ok(gold)
        })
    }

    /// Equips an item from the bag; what was in that slot goes to the bag slot it came from.
    pub async fn equip(&self, actor: Actor, item: ItemId) -> StoreResult<Equipped> {
        in_tx!(self.conns(), |tx| equip_in(tx, actor, item))
    }

    /// Takes off what is in `slot`, into `to` or the first free bag slot.
    pub async fn unequip(
        &self,
        actor: Actor,
        slot: EquipSlot,
        to: Option<InventorySlot>,
    ) -> StoreResult<InventoryItem> {
        in_tx!(self.conns(), |tx| unequip_in(tx, actor, slot, to))
    }

    /// Moves an item to another bag slot, swapping with what is there. Returns the swapped item.
    pub async fn move_item(
        &self,
        actor: Actor,
        item: ItemId,
        to: InventorySlot,
    ) -> StoreResult<Option<ItemId>> {
        in_tx!(self.conns(), |tx| move_in(tx, actor, item, to))
    }

    /// Splits `quantity` off a stack into an empty slot. Returns the new stack's id.
    pub async fn split_stack(
        &self,
        actor: Actor,
        item: ItemId,
        quantity: Quantity,
        to: InventorySlot,
    ) -> StoreResult<ItemId> {
        in_tx!(self.conns(), |tx| split_in(tx, actor, item, quantity, to))
    }

    /// Moves as much of `from` onto `onto` as fits; `from` disappears if all of it moved.
    /// Returns the new quantity of `onto`.
    pub async fn stack_items(&self, actor: Actor, from: ItemId, onto: ItemId) -> StoreResult<i32> {
        in_tx!(self.conns(), |tx| stack_in(tx, actor, from, onto))
    }

    /// Destroys an item in the bag.
    pub async fn destroy_item(&self, actor: Actor, item: ItemId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| destroy_in(tx, actor, item))
    }

    /// The bag of a character, by slot.
    pub async fn inventory(&self, character: CharacterId) -> StoreResult<Vec<InventoryItem>> {
        let rows: Vec<(i64, i32, i32, i16)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT i.id, i.def_id, i.quantity, inv.slot FROM inventories inv JOIN item_instances i ON i.id = inv.item_id
             WHERE inv.character_id = $1 ORDER BY inv.slot",
        )
        .bind(character.0)
        .fetch_all(conn))
        .map_err(db("inventory"))?;
        Ok(rows
            .into_iter()
            .map(|(item, def, quantity, slot)| InventoryItem {
                item: ItemId(item),
                def: ItemDefId(def),
                quantity,
                slot,
            })
            .collect())
    }
}
