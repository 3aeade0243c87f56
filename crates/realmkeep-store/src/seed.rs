//! Game content into the definition tables. The repository's `content/*.json` are bundled into
//! the binary, so `realmkeep seed` works from any directory; `read_content_dir` loads another set.

use crate::error::{db, StoreError, StoreResult};
use crate::Store;
use realmkeep_domain::content::Content;
use std::path::Path;

const ITEMS: &str = include_str!("../../../content/items.json");
const SKILLS: &str = include_str!("../../../content/skills.json");
const QUESTS: &str = include_str!("../../../content/quests.json");
const MONSTERS: &str = include_str!("../../../content/monsters.json");
const ZONES: &str = include_str!("../../../content/zones.json");

fn parse(
    items: &str,
    skills: &str,
    quests: &str,
    monsters: &str,
    zones: &str,
) -> StoreResult<Content> {
    let p = |what: &str, e: serde_json::Error| StoreError::Io(format!("content {what}: {e}"));
    let content = Content {
        items: serde_json::from_str(items).map_err(|e| p("items.json", e))?,
        skills: serde_json::from_str(skills).map_err(|e| p("skills.json", e))?,
        quests: serde_json::from_str(quests).map_err(|e| p("quests.json", e))?,
        monsters: serde_json::from_str(monsters).map_err(|e| p("monsters.json", e))?,
        zones: serde_json::from_str(zones).map_err(|e| p("zones.json", e))?,
    };
    content
        .validate()
        .map_err(|e| StoreError::Io(format!("content is invalid: {e}")))?;
    Ok(content)
}

/// The content shipped in the repository's `content/` directory.
pub fn bundled_content() -> StoreResult<Content> {
    parse(ITEMS, SKILLS, QUESTS, MONSTERS, ZONES)
}

/// Content from a directory laid out like the repository's `content/`.
pub fn read_content_dir(dir: &Path) -> StoreResult<Content> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| StoreError::Io(format!("reading {name}: {e}")))
    };
    parse(
        &read("items.json")?,
        &read("skills.json")?,
        &read("quests.json")?,
        &read("monsters.json")?,
        &read("zones.json")?,
    )
}

impl Store {
    /// Upserts every definition in one transaction. Definitions are only added or updated, never
    /// deleted: items and characters in the world may still refer to them.
    pub async fn seed_content(&self, content: &Content) -> StoreResult<()> {
        let mut held = self.conns().acquire().await.map_err(db("begin"))?;
        let mut tx = sqlx::Connection::begin(&mut *held)
            .await
            .map_err(db("begin"))?;
        for i in &content.items {
            sqlx::query(
                "INSERT INTO item_definitions (id, name, kind, equip_slot, max_stack, price, level_req, bonus)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
                   equip_slot = EXCLUDED.equip_slot, max_stack = EXCLUDED.max_stack, price = EXCLUDED.price,
                   level_req = EXCLUDED.level_req, bonus = EXCLUDED.bonus",
            )
            .bind(i.id.0)
            .bind(&i.name)
            .bind(i.kind.as_str())
            .bind(i.equip_slot.map(|s| s.as_str()))
            .bind(i.max_stack)
            .bind(i.price)
            .bind(i.level_req)
            .bind(sqlx::types::Json(&i.bonus))
            .execute(&mut *tx)
            .await
            .map_err(db("seed items"))?;
        }
        for s in &content.skills {
            sqlx::query(
                "INSERT INTO skill_definitions (id, name, class, max_level, cooldown_ms, mana_cost, damage, heal, range, level_req, effect)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, class = EXCLUDED.class,
                   max_level = EXCLUDED.max_level, cooldown_ms = EXCLUDED.cooldown_ms,
                   mana_cost = EXCLUDED.mana_cost, damage = EXCLUDED.damage, heal = EXCLUDED.heal,
                   range = EXCLUDED.range, level_req = EXCLUDED.level_req, effect = EXCLUDED.effect",
            )
            .bind(s.id.0)
            .bind(&s.name)
            .bind(s.class.map(|c| c.as_str()))
            .bind(s.max_level)
            .bind(s.cooldown_ms as i32)
            .bind(s.mana_cost)
            .bind(s.damage)
            .bind(s.heal)
            .bind(s.range)
            .bind(s.level_req)
            .bind(s.effect.map(sqlx::types::Json))
            .execute(&mut *tx)
            .await
            .map_err(db("seed skills"))?;
        }
        for m in &content.monsters {
            sqlx::query(
                "INSERT INTO monster_definitions (id, name, level, data) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, data = EXCLUDED.data",
            )
            .bind(m.id)
            .bind(&m.name)
            .bind(m.level)
            .bind(sqlx::types::Json(m))
            .execute(&mut *tx)
            .await
            .map_err(db("seed monsters"))?;
        }
        for q in &content.quests {
            sqlx::query(
                "INSERT INTO quest_definitions (id, name, level_req, target_monster, target_count, reward_xp, reward_gold, reward_items)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, level_req = EXCLUDED.level_req,
                   target_monster = EXCLUDED.target_monster, target_count = EXCLUDED.target_count,
                   reward_xp = EXCLUDED.reward_xp, reward_gold = EXCLUDED.reward_gold,
                   reward_items = EXCLUDED.reward_items",
            )
            .bind(q.id.0)
            .bind(&q.name)
            .bind(q.level_req)
            .bind(q.target_monster)
            .bind(q.target_count)
            .bind(q.reward.xp)
            .bind(q.reward.gold)
            .bind(sqlx::types::Json(&q.reward.items))
            .execute(&mut *tx)
            .await
            .map_err(db("seed quests"))?;
        }
        for z in &content.zones {
            sqlx::query(
                "INSERT INTO zone_definitions (id, name, data) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, data = EXCLUDED.data",
            )
            .bind(z.id.0)
            .bind(&z.name)
            .bind(sqlx::types::Json(z))
            .execute(&mut *tx)
            .await
            .map_err(db("seed zones"))?;
        }
        tx.commit().await.map_err(db("commit seed"))?;
        held.settle(true);
        Ok(())
    }
}
