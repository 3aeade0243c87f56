//! One bag or equipment operation a player asks for, as the zone sends it: the operation's
//! transaction (`items.rs`), then the character's whole bag and equipment read back in the same
//! transaction, kept under the request's idempotency key so a retry after a lost answer is
//! answered from what was committed.

use super::{destroy_in, equip_in, move_in, split_in, stack_in, unequip_in};
use crate::action_keys::{check_key, keep_in};
use crate::error::{db, StoreResult};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::records::{Belongings, EquippedItem, InventoryItem, ItemOp};
use realmkeep_domain::rules::ItemBonus;
use realmkeep_domain::{Actor, CharacterId, EquipSlot, ItemDefId, ItemId};
use sqlx::PgConnection;

/// The character's bag and equipment, as this transaction sees them.
pub(crate) async fn belongings_in(
    tx: &mut PgConnection,
    c: CharacterId,
) -> StoreResult<Belongings> {
    let bag: Vec<(i64, i32, i32, i16)> = sqlx::query_as(
        "SELECT i.id, i.def_id, i.quantity, inv.slot FROM inventories inv
         JOIN item_instances i ON i.id = inv.item_id WHERE inv.character_id = $1 ORDER BY inv.slot",
    )
    .bind(c.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("bag"))?;
    let worn: Vec<(i64, i32, String, sqlx::types::Json<ItemBonus>)> = sqlx::query_as(
        "SELECT i.id, i.def_id, e.slot, d.bonus FROM equipment e
         JOIN item_instances i ON i.id = e.item_id JOIN item_definitions d ON d.id = i.def_id
         WHERE e.character_id = $1 ORDER BY e.slot",
    )
    .bind(c.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("equipment"))?;
    let mut equipment = Vec::with_capacity(worn.len());
    for (item, def, slot, bonus) in worn {
        let slot: EquipSlot = slot.parse()?;
        equipment.push(EquippedItem {
            item: ItemId(item),
            def: ItemDefId(def),
            slot,
            bonus: bonus.0,
        });
    }
    Ok(Belongings {
        bag: bag
            .into_iter()
            .map(|(item, def, quantity, slot)| InventoryItem {
                item: ItemId(item),
                def: ItemDefId(def),
                quantity,
                slot,
            })
            .collect(),
        equipment,
    })
}

async fn item_op_in(tx: &mut PgConnection, actor: Actor, op: ItemOp) -> StoreResult<Belongings> {
    match op {
        ItemOp::Move { item, to } => move_in(tx, actor, item, to).await.map(drop)?,
        ItemOp::Split { item, quantity, to } => {
            split_in(tx, actor, item, quantity, to).await.map(drop)?
        }
        ItemOp::Merge { from, onto } => stack_in(tx, actor, from, onto).await.map(drop)?,
        ItemOp::Equip { item } => equip_in(tx, actor, item).await.map(drop)?,
        ItemOp::Unequip { slot, to } => unequip_in(tx, actor, slot, to).await.map(drop)?,
        ItemOp::Destroy { item } => destroy_in(tx, actor, item).await?,
    }
    belongings_in(tx, actor.character()).await
}

impl Store {
    /// Runs `op` for `actor` in one transaction, with `key` kept alongside (a key already used
    /// answers `KeyUsed`: `settle_action::<Belongings>(key)` says what the first attempt did).
    /// Answers what the character holds once it committed.
    pub async fn item_op_keyed(
        &self,
        actor: Actor,
        op: ItemOp,
        key: &str,
    ) -> StoreResult<Belongings> {
        check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            let held = item_op_in(tx, actor, op).await?;
            keep_in(tx, key, &held).await?;
            Ok(held)
        })
    }
}
