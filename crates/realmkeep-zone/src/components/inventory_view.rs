//! What the store says the player holds: gold, bag and equipment. The zone never changes it on
//! its own: only results of store requests (pickup, gold, quest, trade) update it, so it can never
//! show an item the database does not have. Never persisted by the zone.

use bevy_ecs::prelude::*;
use realmkeep_domain::records::{EquippedItem, InventoryItem};
use realmkeep_domain::ItemId;

#[derive(Component, Debug, Clone, PartialEq, Default)]
pub struct InventoryView {
    pub gold: i64,
    pub items: Vec<InventoryItem>,
    pub equipment: Vec<EquippedItem>,
}

impl InventoryView {
    pub fn item(&self, id: ItemId) -> Option<&InventoryItem> {
        self.items.iter().find(|i| i.item == id)
    }

    /// Inserts or replaces the stack with the same item id.
    pub fn upsert(&mut self, item: InventoryItem) {
        match self.items.iter_mut().find(|i| i.item == item.item) {
            Some(existing) => *existing = item,
            None => self.items.push(item),
        }
    }

    pub fn set_quantity(&mut self, id: ItemId, quantity: i32) {
        if let Some(i) = self.items.iter_mut().find(|i| i.item == id) {
            i.quantity = quantity;
        }
    }

    pub fn remove(&mut self, id: ItemId) -> Option<InventoryItem> {
        let at = self.items.iter().position(|i| i.item == id)?;
        Some(self.items.remove(at))
    }
}
