//! Items in a character's hands: loot pickup (an item comes into the world), equip, unequip,
//! move, split, stack and destroy. Each is one transaction, fenced by the actor's claim.

use crate::characters::InventoryItem;
use crate::common::{
    create_item, delete_item, free_slots, item_def, lock_actor, place_in_inventory, relocate,
    take_from_inventory,
};
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
/// How long a loot key is kept: loot lies on the ground for 60 s, so an hour is ample.
pub const LOOT_KEY_RETENTION_SECS: f64 = 3_600.0;
/// Old loot keys one pickup prunes at the most.
pub const LOOT_KEY_PRUNE_ROWS_MAX: i64 = 16;
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

/// Records that the loot `key` is being picked up by `c`. `Some` when it already was, in an
/// earlier transaction: by `c` (answered as done, nothing created again) or by someone else
/// (refused). Prunes a few keys older than `LOOT_KEY_RETENTION_SECS` on the way.
async fn claim_loot_key(
    tx: &mut PgConnection,
    c: CharacterId,
    key: &str,
) -> StoreResult<Option<PickedUp>> {
    sqlx::query(
        "DELETE FROM loot_pickups WHERE loot_key IN (
             SELECT loot_key FROM loot_pickups WHERE created_at < now() - make_interval(secs => $1)
             LIMIT $2 FOR UPDATE SKIP LOCKED)",
    )
    .bind(LOOT_KEY_RETENTION_SECS)
    .bind(LOOT_KEY_PRUNE_ROWS_MAX)
    .execute(&mut *tx)
    .await
    .map_err(db("prune loot keys"))?;
    let fresh: Option<i64> = sqlx::query_scalar(
        "INSERT INTO loot_pickups (loot_key, character_id) VALUES ($1, $2)
         ON CONFLICT (loot_key) DO NOTHING RETURNING character_id",
    )
    .bind(key)
    .bind(c.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("loot key"))?;
    if fresh.is_some() {
        return Ok(None);
    }
    let by: i64 = sqlx::query_scalar("SELECT character_id FROM loot_pickups WHERE loot_key = $1")
        .bind(key)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("loot key owner"))?;
    if by == c.0 {
        Ok(Some(PickedUp {
            merged: Vec::new(),
            created: None,
        }))
    } else {
        refuse!(Refusal::NotFound("loot"))
    }
}

#[allow(clippy::too_many_arguments)]
async fn pickup_in(
    tx: &mut PgConnection,
    actor: Actor,
    def: ItemDefId,
    quantity: Quantity,
    zone: Option<ZoneId>,
    origin: &str,
    key: Option<&str>,
) -> StoreResult<PickedUp> {
    lock_actor(tx, &actor).await?;
    let c = actor.character();
    if let Some(key) = key {
        if let Some(done) = claim_loot_key(tx, c, key).await? {
            return Ok(done);
        }
    }
    let d = item_def(tx, def).await?;
    let mut left = quantity.get();
    let mut merged = Vec::new();
    if d.max_stack > 1 {
        let stacks: Vec<(i64, i32)> = sqlx::query_as(
            "SELECT i.id, i.quantity FROM inventories inv JOIN item_instances i ON i.id = inv.item_id
             WHERE inv.character_id = $1 AND i.def_id = $2 AND i.quantity < $3
             ORDER BY inv.slot FOR UPDATE OF i",
        )
        .bind(c.0)
        .bind(def.0)
        .bind(d.max_stack)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("stacks"))?;
        for (id, q) in stacks {
            if left == 0 {
                break;
            }
            let add = left.min(d.max_stack - q);
            sqlx::query("UPDATE item_instances SET quantity = quantity + $2 WHERE id = $1")
                .bind(id)
                .bind(add)
                .execute(&mut *tx)
                .await
                .map_err(db("grow stack"))?;
            left -= add;
            merged.push((ItemId(id), q + add));
        }
    }
    if left > d.max_stack {
        refuse!(Refusal::Invalid(format!(
            "{} of item {} do not fit one stack",
            left, def.0
        )));
    }
    let mut created = None;
    if left > 0 {
        let slot = free_slots(tx, c, 1).await?[0];
        let item = create_item(tx, def, left, "inventory", origin).await?;
        place_in_inventory(tx, c, slot, item).await?;
        created = Some(InventoryItem {
            item,
            def,
            quantity: left,
            slot,
        });
    }
    let mut ev = LogEvent::new("loot_pickup")
        .actor(c.0)
        .details(serde_json::json!({ "origin": origin, "merged": merged.len() }));
    ev.item_def_id = Some(def.0);
    ev.quantity = Some(quantity.get());
    ev.item_id = created.as_ref().map(|i| i.item.0);
    ev.zone_id = zone.map(|z| z.0);
    write_in_tx(tx, &[ev]).await?;
    Ok(PickedUp { merged, created })
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
        in_tx!(self.pool(), |tx| pickup_in(
            tx, actor, def, quantity, zone, origin, None
        ))
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
        in_tx!(self.pool(), |tx| pickup_in(
            tx,
            actor,
            def,
            quantity,
            zone,
            origin,
            Some(key)
        ))
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
        in_tx!(self.pool(), |tx| loot_gold_in(tx, actor, amount, zone))
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
        in_tx!(self.pool(), |tx| async move {
            let gold = loot_gold_in(tx, actor, amount, zone).await?;
            crate::action_keys::keep_in(tx, key, &gold).await?;
            Ok(gold)
        })
    }

    /// Equips an item from the bag; what was in that slot goes to the bag slot it came from.
    pub async fn equip(&self, actor: Actor, item: ItemId) -> StoreResult<Equipped> {
        in_tx!(self.pool(), |tx| equip_in(tx, actor, item))
    }

    /// Takes off what is in `slot`, into `to` or the first free bag slot.
    pub async fn unequip(
        &self,
        actor: Actor,
        slot: EquipSlot,
        to: Option<InventorySlot>,
    ) -> StoreResult<InventoryItem> {
        in_tx!(self.pool(), |tx| unequip_in(tx, actor, slot, to))
    }

    /// Moves an item to another bag slot, swapping with what is there. Returns the swapped item.
    pub async fn move_item(
        &self,
        actor: Actor,
        item: ItemId,
        to: InventorySlot,
    ) -> StoreResult<Option<ItemId>> {
        in_tx!(self.pool(), |tx| move_in(tx, actor, item, to))
    }

    /// Splits `quantity` off a stack into an empty slot. Returns the new stack's id.
    pub async fn split_stack(
        &self,
        actor: Actor,
        item: ItemId,
        quantity: Quantity,
        to: InventorySlot,
    ) -> StoreResult<ItemId> {
        in_tx!(self.pool(), |tx| split_in(tx, actor, item, quantity, to))
    }

    /// Moves as much of `from` onto `onto` as fits; `from` disappears if all of it moved.
    /// Returns the new quantity of `onto`.
    pub async fn stack_items(&self, actor: Actor, from: ItemId, onto: ItemId) -> StoreResult<i32> {
        in_tx!(self.pool(), |tx| stack_in(tx, actor, from, onto))
    }

    /// Destroys an item in the bag.
    pub async fn destroy_item(&self, actor: Actor, item: ItemId) -> StoreResult<()> {
        in_tx!(self.pool(), |tx| destroy_in(tx, actor, item))
    }

    /// The bag of a character, by slot.
    pub async fn inventory(&self, character: CharacterId) -> StoreResult<Vec<InventoryItem>> {
        let rows: Vec<(i64, i32, i32, i16)> = sqlx::query_as(
            "SELECT i.id, i.def_id, i.quantity, inv.slot FROM inventories inv JOIN item_instances i ON i.id = inv.item_id
             WHERE inv.character_id = $1 ORDER BY inv.slot",
        )
        .bind(character.0)
        .fetch_all(self.pool())
        .await
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
