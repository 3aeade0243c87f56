//! Characters: creation with a starting kit, listing per account, and loading everything a zone
//! needs in one round trip (one statement that aggregates the child rows as arrays).

use crate::common::{create_item, free_slots, place_in_inventory};
use crate::conns::on_conn;
use crate::error::{db, refuse, unique_violation, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::limits::CHARACTERS_PER_ACCOUNT_MAX;
pub use realmkeep_domain::records::{
    EquippedItem, InventoryItem, LearnedSkill, LoadedCharacter, QuestState,
};
use realmkeep_domain::rules::{
    base_attributes, combat_values, starting_kit, ItemBonus, STARTING_GOLD,
};
use realmkeep_domain::*;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// One row of a character list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow)]
pub struct CharacterSummary {
    pub id: i64,
    pub name: String,
    pub class: String,
    pub kingdom: String,
    pub level: i32,
    pub zone_id: i32,
}

#[derive(sqlx::FromRow)]
struct LoadRow {
    id: i64,
    account_id: i64,
    name: String,
    class: String,
    kingdom: String,
    level: i32,
    xp: i64,
    gold: i64,
    strength: i32,
    agility: i32,
    intellect: i32,
    stamina: i32,
    health: i32,
    mana: i32,
    zone_id: i32,
    pvp_kills: i32,
    claim_epoch: i64,
    x: Option<f32>,
    y: Option<f32>,
    z: Option<f32>,
    rotation: Option<f32>,
    guild_id: Option<i64>,
    inv_items: Option<Vec<i64>>,
    inv_defs: Option<Vec<i32>>,
    inv_qty: Option<Vec<i32>>,
    inv_slots: Option<Vec<i16>>,
    eq_items: Option<Vec<i64>>,
    eq_defs: Option<Vec<i32>>,
    eq_slots: Option<Vec<String>>,
    eq_bonus: Option<Vec<sqlx::types::Json<ItemBonus>>>,
    sk_ids: Option<Vec<i32>>,
    sk_levels: Option<Vec<i32>>,
    q_ids: Option<Vec<i32>>,
    q_status: Option<Vec<String>>,
    q_progress: Option<Vec<i32>>,
    blocked: Option<Vec<i64>>,
}

/// The child rows of character `c`, each child table read once, as parallel arrays (binary, no
/// JSON to build or parse); used after `FROM characters c`. An array of a column whose type may
/// become a domain is cast to the base type (`v.slot::smallint`): sqlx does not decode an array
/// of a domain, and migration 20261204000009 makes the bag slot one.
const CHILDREN: &str = "
    p.x, p.y, p.z, p.rotation,
    (SELECT gm.guild_id FROM guild_members gm WHERE gm.character_id = c.id) AS guild_id,
    inv.*, eq.*, sk.*, q.*,
    (SELECT array_agg(f.other_id ORDER BY f.other_id) FROM friendships f
      WHERE f.character_id = c.id AND f.status = 'blocked') AS blocked";

const CHILD_JOINS: &str = "
    LEFT JOIN character_positions p ON p.character_id = c.id AND p.zone_id = c.zone_id
    LEFT JOIN LATERAL (
        SELECT array_agg(i.id ORDER BY v.slot) AS inv_items, array_agg(i.def_id ORDER BY v.slot) AS inv_defs,
               array_agg(i.quantity ORDER BY v.slot) AS inv_qty, array_agg(v.slot::smallint ORDER BY v.slot) AS inv_slots
        FROM inventories v JOIN item_instances i ON i.id = v.item_id WHERE v.character_id = c.id) inv ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(i.id ORDER BY e.slot) AS eq_items, array_agg(i.def_id ORDER BY e.slot) AS eq_defs,
               array_agg(e.slot ORDER BY e.slot) AS eq_slots, array_agg(d.bonus ORDER BY e.slot) AS eq_bonus
        FROM equipment e JOIN item_instances i ON i.id = e.item_id JOIN item_definitions d ON d.id = i.def_id
        WHERE e.character_id = c.id) eq ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(s.skill_id ORDER BY s.skill_id) AS sk_ids, array_agg(s.level ORDER BY s.skill_id) AS sk_levels
        FROM skills s WHERE s.character_id = c.id) sk ON true
    LEFT JOIN LATERAL (
        SELECT array_agg(qq.quest_id ORDER BY qq.quest_id) AS q_ids, array_agg(qq.status ORDER BY qq.quest_id) AS q_status,
               array_agg(qq.progress ORDER BY qq.quest_id) AS q_progress
        FROM quests qq WHERE qq.character_id = c.id) q ON true";

const CHARACTER_COLUMNS: &str =
    "c.id, c.account_id, c.name, c.class, c.kingdom, c.level, c.xp, c.gold, c.strength, c.agility,
    c.intellect, c.stamina, c.health, c.mana, c.zone_id, c.pvp_kills, c.claim_epoch";

impl LoadRow {
    fn into_loaded(self) -> StoreResult<LoadedCharacter> {
        let corrupt =
            |what: &str| crate::StoreError::Io(format!("character {} has a bad {what}", self.id));
        let class: Class = self.class.parse().map_err(|_| corrupt("class"))?;
        let kingdom: Kingdom = self.kingdom.parse().map_err(|_| corrupt("kingdom"))?;
        let eq_items = self.eq_items.unwrap_or_default();
        let eq_defs = self.eq_defs.unwrap_or_default();
        let eq_slots = self.eq_slots.unwrap_or_default();
        let eq_bonus = self.eq_bonus.unwrap_or_default();
        let mut equipment = Vec::with_capacity(eq_items.len());
        for (((item, def), slot), bonus) in eq_items
            .into_iter()
            .zip(eq_defs)
            .zip(eq_slots)
            .zip(eq_bonus)
        {
            let slot: EquipSlot = slot.parse().map_err(|_| corrupt("equipment slot"))?;
            equipment.push(EquippedItem {
                item: ItemId(item),
                def: ItemDefId(def),
                slot,
                bonus: bonus.0,
            });
        }
        let inventory = self
            .inv_items
            .unwrap_or_default()
            .into_iter()
            .zip(self.inv_defs.unwrap_or_default())
            .zip(self.inv_qty.unwrap_or_default())
            .zip(self.inv_slots.unwrap_or_default())
            .map(|(((item, def), quantity), slot)| InventoryItem {
                item: ItemId(item),
                def: ItemDefId(def),
                quantity,
                slot,
            })
            .collect();
        let skills = self
            .sk_ids
            .unwrap_or_default()
            .into_iter()
            .zip(self.sk_levels.unwrap_or_default())
            .map(|(s, l)| LearnedSkill {
                skill: SkillId(s),
                level: l,
            })
            .collect();
        let quests = self
            .q_ids
            .unwrap_or_default()
            .into_iter()
            .zip(self.q_status.unwrap_or_default())
            .zip(self.q_progress.unwrap_or_default())
            .map(|((q, status), progress)| {
                Ok(QuestState {
                    quest: QuestId(q),
                    status: status.parse().map_err(|_| corrupt("quest status"))?,
                    progress,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let name = CharacterName::parse(&self.name).map_err(|_| corrupt("name"))?;
        Ok(LoadedCharacter {
            id: CharacterId(self.id),
            account: AccountId(self.account_id),
            name,
            class,
            kingdom,
            level: self.level,
            xp: self.xp,
            gold: self.gold,
            attributes: Attributes {
                strength: self.strength,
                agility: self.agility,
                intellect: self.intellect,
                stamina: self.stamina,
            },
            health: self.health,
            mana: self.mana,
            position: Position {
                zone: ZoneId(self.zone_id),
                x: self.x.unwrap_or(0.0),
                y: self.y.unwrap_or(0.0),
                z: self.z.unwrap_or(0.0),
                rotation: self.rotation.unwrap_or(0.0),
            },
            pvp_kills: self.pvp_kills,
            guild: self.guild_id.map(GuildId),
            inventory,
            equipment,
            skills,
            quests,
            blocked: self
                .blocked
                .unwrap_or_default()
                .into_iter()
                .map(CharacterId)
                .collect(),
            claim_epoch: ClaimEpoch(self.claim_epoch),
        })
    }
}

/// The statement that loads one character (`$1`). Public so the benchmark can hand PostgreSQL's
/// own client the very same statement as a reference.
///
/// A claim is a statement of its own before this one (`Store::claim_and_load`), never a CTE of
/// it: a statement that waits for a row lock sees the newest version of that row but reads every
/// other table with the snapshot it took before the wait, so a claim that waited for a trade would
/// load the trade's purse with the bag from before it.
pub fn load_sql() -> &'static str {
    static LOAD: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {CHARACTER_COLUMNS}, {CHILDREN}
             FROM characters c {CHILD_JOINS}
             WHERE c.id = $1"
        )
    });
    &LOAD
}

/// Loads one character on `conn` with a statement (and so, in READ COMMITTED, a snapshot) of its
/// own.
pub(crate) async fn load_with(
    conn: &mut PgConnection,
    character: CharacterId,
) -> StoreResult<Option<LoadedCharacter>> {
    let row = sqlx::query_as::<_, LoadRow>(load_sql())
        .bind(character.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("load character"))?;
    row.map(LoadRow::into_loaded).transpose()
}

async fn zone_entry(conn: &mut PgConnection, zone: ZoneId) -> StoreResult<(f32, f32)> {
    let entry: Option<sqlx::types::Json<(f32, f32)>> =
        sqlx::query_scalar("SELECT data->'entry' FROM zone_definitions WHERE id = $1")
            .bind(zone.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db("zone entry"))?;
    match entry {
        Some(e) => Ok(e.0),
        None => refuse!(Refusal::NotFound("zone")),
    }
}

/// `create_character`'s transaction (run again whole after a deadlock or a stale plan).
async fn create_character_in(
    tx: &mut PgConnection,
    account: AccountId,
    name: &CharacterName,
    class: Class,
    kingdom: Kingdom,
) -> StoreResult<CharacterId> {
    // Serialises character creation per account, so the per-account limit holds.
    let count: Option<i64> = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM characters WHERE account_id = a.id AND deleted_at IS NULL) FROM accounts a WHERE a.id = $1 FOR UPDATE",
    )
    .bind(account.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("count characters"))?;
    match count {
        None => refuse!(Refusal::NotFound("account")),
        Some(n) if n >= CHARACTERS_PER_ACCOUNT_MAX => {
            refuse!(Refusal::LimitReached("characters per account"))
        }
        Some(_) => {}
    }
    let attrs = base_attributes(class, 1);
    let kit = starting_kit(class);
    let mut equip_bonus = Vec::new();
    let mut kit_rows = Vec::new();
    for (def, qty) in kit {
        let row: (Option<String>, sqlx::types::Json<ItemBonus>) =
            sqlx::query_as("SELECT equip_slot, bonus FROM item_definitions WHERE id = $1")
                .bind(def.0)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("starting kit"))?
                .ok_or(crate::StoreError::Refused(Refusal::NotFound(
                    "starting item definition",
                )))?;
        if row.0.is_some() {
            equip_bonus.push(row.1 .0);
        }
        kit_rows.push((*def, *qty, row.0));
    }
    let values = combat_values(class, 1, &equip_bonus);
    let (x, y) = zone_entry(tx, STARTING_ZONE).await?;
    let r = sqlx::query_scalar(
        "INSERT INTO characters (account_id, name, class, kingdom, gold, strength, agility, intellect,
                                 stamina, health, mana, zone_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(account.0)
    .bind(name.as_str())
    .bind(class.as_str())
    .bind(kingdom.as_str())
    .bind(STARTING_GOLD)
    .bind(attrs.strength)
    .bind(attrs.agility)
    .bind(attrs.intellect)
    .bind(attrs.stamina)
    .bind(values.max_health)
    .bind(values.max_mana)
    .bind(STARTING_ZONE.0)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match r {
        Ok(id) => id,
        Err(e) if unique_violation(&e).as_deref() == Some("characters_name_lower") => {
            refuse!(Refusal::NameTaken)
        }
        Err(e) => return Err(db("create character")(e)),
    };
    let character = CharacterId(id);
    sqlx::query(
        "INSERT INTO character_positions (character_id, zone_id, x, y) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(STARTING_ZONE.0)
    .bind(x)
    .bind(y)
    .execute(&mut *tx)
    .await
    .map_err(db("starting position"))?;
    let bag = kit_rows.iter().filter(|r| r.2.is_none()).count();
    let mut slots = free_slots(tx, character, bag).await?.into_iter();
    for (def, qty, equip_slot) in kit_rows {
        match equip_slot {
            Some(slot) => {
                let item = create_item(tx, def, qty, "equipment", "starting_kit").await?;
                sqlx::query(
                    "INSERT INTO equipment (character_id, slot, item_id) VALUES ($1, $2, $3)",
                )
                .bind(id)
                .bind(slot)
                .bind(item.0)
                .execute(&mut *tx)
                .await
                .map_err(db("equip starting kit"))?;
            }
            None => {
                let item = create_item(tx, def, qty, "inventory", "starting_kit").await?;
                let slot = slots
                    .next()
                    .expect("free_slots returned one slot per bag item");
                place_in_inventory(tx, character, slot, item).await?;
            }
        }
    }
    write_in_tx(
        tx,
        &[LogEvent::new("character_created")
            .actor(id)
            .gold(STARTING_GOLD)
            .details(serde_json::json!({
                "account_id": account.0, "name": name.as_str(), "class": class.as_str(),
            }))],
    )
    .await?;
    Ok(character)
}

/// The zone new characters start in.
pub const STARTING_ZONE: ZoneId = ZoneId(1);

impl Store {
    /// Creates a character with its class's attributes, full health and mana, starting gold and
    /// starting kit (weapon and armor equipped, the rest in the bag), at the starting zone's entry.
    pub async fn create_character(
        &self,
        account: AccountId,
        name: &CharacterName,
        class: Class,
        kingdom: Kingdom,
    ) -> StoreResult<CharacterId> {
        in_tx!(self.conns(), |tx| create_character_in(
            tx, account, name, class, kingdom
        ))
    }

    pub async fn list_characters(&self, account: AccountId) -> StoreResult<Vec<CharacterSummary>> {
        on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT id, name, class, kingdom, level, zone_id FROM characters WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id",
        )
        .bind(account.0)
        .fetch_all(conn))
        .map_err(db("list characters"))
    }

    /// Deletes one of `account`'s characters: marks it deleted (kept with everything it owns, so
    /// an operator can restore it) and logs `character_deleted`. Refused while a zone holds it
    /// (`ClaimHeld`), and for another account's or an unknown character (`NotFound`).
    pub async fn delete_character(
        &self,
        account: AccountId,
        character: CharacterId,
    ) -> StoreResult<()> {
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        let row: Option<(Option<String>, bool)> = sqlx::query_as(
            "SELECT claim_holder, coalesce(claim_expires_at > now(), false) FROM characters \
             WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL FOR UPDATE",
        )
        .bind(character.0)
        .bind(account.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("delete character"))?;
        match row {
            None => refuse!(Refusal::NotFound("character")),
            Some((Some(_), true)) => refuse!(Refusal::ClaimHeld),
            Some(_) => {}
        }
        sqlx::query("UPDATE characters SET deleted_at = now() WHERE id = $1")
            .bind(character.0)
            .execute(&mut *tx)
            .await
            .map_err(db("delete character"))?;
        write_in_tx(
            &mut tx,
            &[LogEvent::new("character_deleted")
                .actor(character.0)
                .details(serde_json::json!({ "account_id": account.0 }))],
        )
        .await?;
        tx.commit().await.map_err(db("commit"))?;
        held.settle(true);
        Ok(())
    }

    /// Everything about a character, read in one statement, without claiming it (admin tools).
    pub async fn load_character(&self, character: CharacterId) -> StoreResult<LoadedCharacter> {
        on_conn!(self.conns(), |conn| load_with(conn, character))?
            .ok_or(crate::StoreError::Refused(Refusal::NotFound("character")))
    }

    pub async fn character_id_by_name(&self, name: &str) -> StoreResult<Option<CharacterId>> {
        let id: Option<i64> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT id FROM characters WHERE lower(name) = lower($1)"
        )
        .bind(name.trim())
        .fetch_optional(conn))
        .map_err(db("character by name"))?;
        Ok(id.map(CharacterId))
    }
}
