//! Building blocks shared by the economy modules: locking characters in a fixed order, checking
//! the actor's claim, moving gold, creating and placing items. All take the caller's transaction.

use crate::error::{db, refuse, Refusal, StoreResult};
use realmkeep_domain::limits::{GOLD_MAX, INVENTORY_SLOTS};
use realmkeep_domain::records::InventoryItem;
use realmkeep_domain::{Actor, CharacterId, ItemDefId, ItemId};
use sqlx::PgConnection;

/// A character row as locked for an economy action.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LockedCharacter {
    pub id: i64,
    pub level: i32,
    pub claim_epoch: i64,
    /// A claim that has not expired.
    pub claim_live: bool,
    pub has_holder: bool,
}

/// Locks the characters' rows `FOR UPDATE` in ascending id order (the order every transaction
/// uses, so two transactions never wait on each other in a cycle). Refuses with `NotFound` if any
/// is missing. Returns them in ascending id order.
pub(crate) async fn lock_characters(
    tx: &mut PgConnection,
    ids: &[CharacterId],
) -> StoreResult<Vec<LockedCharacter>> {
    let mut sorted: Vec<i64> = ids.iter().map(|c| c.0).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let rows: Vec<LockedCharacter> = sqlx::query_as(
        "SELECT id, level, claim_epoch,
                (claim_holder IS NOT NULL AND claim_expires_at > now()) AS claim_live,
                claim_holder IS NOT NULL AS has_holder
         FROM characters WHERE id = ANY($1) ORDER BY id FOR UPDATE",
    )
    .bind(&sorted)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("lock characters"))?;
    if rows.len() != sorted.len() {
        refuse!(Refusal::NotFound("character"));
    }
    Ok(rows)
}

/// Locks one character.
pub(crate) async fn lock_character(
    tx: &mut PgConnection,
    id: CharacterId,
) -> StoreResult<LockedCharacter> {
    Ok(lock_characters(tx, &[id]).await?.remove(0))
}

/// Checks that `actor` may act for the locked character `row`.
pub(crate) fn check_actor(row: &LockedCharacter, actor: &Actor) -> StoreResult<()> {
    match actor {
        Actor::Zone(f) => {
            if !row.has_holder || row.claim_epoch != f.epoch.0 {
                refuse!(Refusal::StaleClaim);
            }
        }
        Actor::Offline(_) => {
            if row.claim_live {
                refuse!(Refusal::ClaimHeld);
            }
        }
    }
    Ok(())
}

/// Locks the actor's character and checks the actor's right to act.
pub(crate) async fn lock_actor(
    tx: &mut PgConnection,
    actor: &Actor,
) -> StoreResult<LockedCharacter> {
    let row = lock_character(tx, actor.character()).await?;
    check_actor(&row, actor)?;
    Ok(row)
}

/// Adds `delta` (may be negative) to a locked character's gold, refusing overdraft and overflow.
pub(crate) async fn add_gold(
    tx: &mut PgConnection,
    character: CharacterId,
    delta: i64,
) -> StoreResult<i64> {
    if delta == 0 {
        let g: i64 = sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
            .bind(character.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("read gold"))?;
        return Ok(g);
    }
    let row: Option<i64> = sqlx::query_scalar(
        "UPDATE characters SET gold = gold + $2
         WHERE id = $1 AND gold + $2 >= 0 AND gold + $2 <= $3 RETURNING gold",
    )
    .bind(character.0)
    .bind(delta)
    .bind(GOLD_MAX)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("add gold"))?;
    match row {
        Some(g) => Ok(g),
        None if delta < 0 => refuse!(Refusal::NotEnoughGold),
        None => refuse!(Refusal::TooMuchGold),
    }
}

/// An item definition's rules.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct DefRow {
    pub kind: String,
    pub equip_slot: Option<String>,
    pub max_stack: i32,
    pub level_req: i32,
}

pub(crate) async fn item_def(tx: &mut PgConnection, def: ItemDefId) -> StoreResult<DefRow> {
    let row: Option<DefRow> = sqlx::query_as(
        "SELECT kind, equip_slot, max_stack, level_req FROM item_definitions WHERE id = $1",
    )
    .bind(def.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("item definition"))?;
    row.ok_or(crate::StoreError::Refused(Refusal::NotFound(
        "item definition",
    )))
}

/// The lowest `n` free inventory slots of a character (locked by the caller), or `InventoryFull`.
pub(crate) async fn free_slots(
    tx: &mut PgConnection,
    character: CharacterId,
    n: usize,
) -> StoreResult<Vec<i16>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let used: Vec<i16> = sqlx::query_scalar("SELECT slot FROM inventories WHERE character_id = $1")
        .bind(character.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db("inventory slots"))?;
    let mut taken = [false; INVENTORY_SLOTS as usize];
    for s in used {
        if (0..INVENTORY_SLOTS).contains(&s) {
            taken[s as usize] = true;
        }
    }
    let free: Vec<i16> = (0..INVENTORY_SLOTS)
        .filter(|s| !taken[*s as usize])
        .take(n)
        .collect();
    if free.len() < n {
        refuse!(Refusal::InventoryFull);
    }
    Ok(free)
}

/// Creates an item instance already bound for `location`; the caller places it in the same
/// transaction (the deferred placement trigger refuses the commit otherwise).
pub(crate) async fn create_item(
    tx: &mut PgConnection,
    def: ItemDefId,
    quantity: i32,
    location: &str,
    origin: &str,
) -> StoreResult<ItemId> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO item_instances (def_id, quantity, location, origin) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(def.0)
    .bind(quantity)
    .bind(location)
    .bind(origin)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("create item"))?;
    Ok(ItemId(id))
}

/// Puts an item (whose `location` is or becomes 'inventory') into a slot.
pub(crate) async fn place_in_inventory(
    tx: &mut PgConnection,
    character: CharacterId,
    slot: i16,
    item: ItemId,
) -> StoreResult<()> {
    sqlx::query("UPDATE item_instances SET location = 'inventory' WHERE id = $1 AND location <> 'inventory'")
        .bind(item.0)
        .execute(&mut *tx)
        .await
        .map_err(db("relocate item"))?;
    let r =
        sqlx::query("INSERT INTO inventories (character_id, slot, item_id) VALUES ($1, $2, $3)")
            .bind(character.0)
            .bind(slot)
            .bind(item.0)
            .execute(&mut *tx)
            .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if crate::error::unique_violation(&e).as_deref() == Some("inventories_pkey") => {
            refuse!(Refusal::SlotTaken)
        }
        Err(e) => Err(db("place in inventory")(e)),
    }
}

/// An item in a character's inventory, as taken out of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct TakenItem {
    pub def_id: i32,
    pub quantity: i32,
    pub slot: i16,
}

/// Removes `item` from `character`'s inventory (the item row stays; the caller places it
/// elsewhere or deletes it). `ItemNotOwned` if it is not there.
pub(crate) async fn take_from_inventory(
    tx: &mut PgConnection,
    character: CharacterId,
    item: ItemId,
) -> StoreResult<TakenItem> {
    let row: Option<TakenItem> = sqlx::query_as(
        "WITH gone AS (DELETE FROM inventories WHERE character_id = $1 AND item_id = $2 RETURNING item_id, slot)
         SELECT i.def_id, i.quantity, gone.slot
         FROM gone JOIN item_instances i ON i.id = gone.item_id",
    )
    .bind(character.0)
    .bind(item.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("take from inventory"))?;
    row.ok_or(crate::StoreError::Refused(Refusal::ItemNotOwned))
}

/// Sets where an item is, before it is inserted into that place's table.
pub(crate) async fn relocate(
    tx: &mut PgConnection,
    item: ItemId,
    location: &str,
) -> StoreResult<()> {
    sqlx::query("UPDATE item_instances SET location = $2 WHERE id = $1")
        .bind(item.0)
        .bind(location)
        .execute(&mut *tx)
        .await
        .map_err(db("relocate item"))?;
    Ok(())
}

/// Deletes an item instance that has already been taken out of its place.
pub(crate) async fn delete_item(tx: &mut PgConnection, item: ItemId) -> StoreResult<()> {
    sqlx::query("DELETE FROM item_instances WHERE id = $1")
        .bind(item.0)
        .execute(&mut *tx)
        .await
        .map_err(db("delete item"))?;
    Ok(())
}

/// Gives a character new items of the given definitions (quest rewards, mail of the system,
/// starting kits), each in a free slot. Returns the new ids.
pub(crate) async fn grant_items(
    tx: &mut PgConnection,
    character: CharacterId,
    items: &[(ItemDefId, i32)],
    origin: &str,
) -> StoreResult<Vec<InventoryItem>> {
    let slots = free_slots(tx, character, items.len()).await?;
    let mut placed = Vec::with_capacity(items.len());
    for ((def, qty), slot) in items.iter().zip(slots) {
        let d = item_def(tx, *def).await?;
        if *qty < 1 || *qty > d.max_stack {
            refuse!(Refusal::Invalid(format!(
                "quantity {qty} does not fit a stack of item {}",
                def.0
            )));
        }
        let id = create_item(tx, *def, *qty, "inventory", origin).await?;
        place_in_inventory(tx, character, slot, id).await?;
        placed.push(InventoryItem {
            item: id,
            def: *def,
            quantity: *qty,
            slot,
        });
    }
    Ok(placed)
}
