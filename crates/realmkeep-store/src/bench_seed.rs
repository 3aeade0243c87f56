//! What `realmkeep bench store` needs of the database besides the store's own calls: a bulk seed
//! of N characters made server-side (`generate_series`, a million in minutes), and the floor the
//! batch save is measured against (PostgreSQL running `BATCH_SAVE_SQL` on arrays it built itself).
//! Kept here so that nothing outside this crate needs the pool.

use crate::error::{db, StoreError, StoreResult};
use crate::saves::BATCH_SAVE_SQL;
use crate::Store;
use realmkeep_domain::{CharacterId, ClaimEpoch, Fence};
use sqlx::pool::PoolConnection;
use sqlx::Postgres;

/// Items in each seeded character's bag and equipment (2 equipped).
pub const BENCH_ITEMS_PER_CHARACTER: i64 = 50;
/// Skills each seeded character knows.
pub const BENCH_SKILLS_PER_CHARACTER: i64 = 20;
/// Quests each seeded character has active.
pub const BENCH_QUESTS_PER_CHARACTER: i64 = 10;
/// Characters seeded per transaction.
pub const BENCH_SEED_CHUNK: i64 = 5_000;
/// Item definitions cycled through the seeded bags.
const BAG_DEFS: &str = "ARRAY[12,13,14,15,16,17,100,101,200,201,202,203,204,2,3,4,5,6,7,11]";

const _: () = assert!(BENCH_ITEMS_PER_CHARACTER > 2 && BENCH_ITEMS_PER_CHARACTER <= 64);

/// One seeded character's stored values a batch save starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchRow {
    pub fence: Fence,
    pub zone: i32,
    pub xp: i64,
    pub level: i32,
}

/// A connection holding the batch-save floor function (`pg_temp`, so per connection).
pub struct FloorConn(PoolConnection<Postgres>);

impl FloorConn {
    /// Milliseconds PostgreSQL takes to run the batch save on characters `1..=n` with positions
    /// shifted by `shift`, arrays built server-side, and then to commit it (the store's save
    /// commits too: its WAL flush is the server's work, not the client's). Returns (statement,
    /// commit); the commit is timed around its round trip, one message on loopback.
    pub async fn run(&mut self, n: i64, shift: f32) -> StoreResult<(f64, f64)> {
        let mut tx = sqlx::Connection::begin(&mut *self.0)
            .await
            .map_err(db("begin batch save floor"))?;
        let statement_ms = sqlx::query_scalar("SELECT pg_temp.batch_save_floor($1, $2)")
            .bind(n)
            .bind(shift)
            .fetch_one(&mut *tx)
            .await
            .map_err(db("batch save floor"))?;
        let t0 = std::time::Instant::now();
        tx.commit().await.map_err(db("commit batch save floor"))?;
        Ok((statement_ms, t0.elapsed().as_secs_f64() * 1000.0))
    }
}

impl Store {
    /// Seeds characters `1..=n` (an account each, a full bag, skills, quests), after the bundled
    /// content; `progress` is told every chunk. Triggers and foreign-key checks are off for the
    /// bulk load (`session_replication_role = replica`), so the one-place rule is checked after.
    pub async fn bench_seed(
        &self,
        n: i64,
        password_hash: &str,
        progress: &mut dyn FnMut(i64),
    ) -> StoreResult<()> {
        self.bench_seed_in_zones(n, password_hash, 2, progress)
            .await
    }

    /// As `bench_seed`, character `i` in zone `1 + i % zones` (zones `1..=zones` must be
    /// defined), at a point of the zone's first 500 x 331 units.
    pub async fn bench_seed_in_zones(
        &self,
        n: i64,
        password_hash: &str,
        zones: i32,
        progress: &mut dyn FnMut(i64),
    ) -> StoreResult<()> {
        if zones < 1 {
            return Err(StoreError::Io("bench seed: at least one zone".into()));
        }
        let mut tx = self.pool().begin().await.map_err(db("begin"))?;
        for s in 0..BENCH_SKILLS_PER_CHARACTER {
            sqlx::query("INSERT INTO skill_definitions (id, name, max_level, cooldown_ms, mana_cost) VALUES ($1, $2, 10, 1000, 1) ON CONFLICT DO NOTHING")
                .bind(1000 + s as i32)
                .bind(format!("Bench Skill {s}"))
                .execute(&mut *tx)
                .await
                .map_err(db("bench skills"))?;
        }
        for q in 0..BENCH_QUESTS_PER_CHARACTER {
            sqlx::query("INSERT INTO quest_definitions (id, name, target_monster, target_count, reward_xp, reward_gold) VALUES ($1, $2, 1, 10, 10, 1) ON CONFLICT DO NOTHING")
                .bind(1000 + q as i32)
                .bind(format!("Bench Quest {q}"))
                .execute(&mut *tx)
                .await
                .map_err(db("bench quests"))?;
        }
        tx.commit().await.map_err(db("commit"))?;
        let mut lo = 1;
        while lo <= n {
            let hi = (lo + BENCH_SEED_CHUNK - 1).min(n);
            self.bench_seed_chunk(lo, hi, password_hash, zones).await?;
            progress(hi);
            lo = hi + 1;
        }
        for table in ["accounts", "characters", "item_instances"] {
            // `table` is one of three literals above.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )))
            .execute(self.pool())
            .await
            .map_err(db("bench sequences"))?;
        }
        // Vacuumed and analysed before anything is measured, as pgbench -i does its own tables:
        // otherwise the seeded tables' first autovacuum (their insert threshold) comes a minute
        // later, in the middle of the measurements, and the visibility map is still unset. No
        // statement timeout (a million characters hold fifty million items); VACUUM cannot run
        // in a transaction, so on a connection of its own, taken out of the pool and closed
        // after, so that no pooled connection is ever left without its timeout (even when the
        // VACUUM fails).
        let mut conn = self.pool().acquire().await.map_err(db("acquire"))?.detach();
        for sql in ["SET statement_timeout = 0", "VACUUM (ANALYZE)"] {
            sqlx::query(sql)
                .execute(&mut conn)
                .await
                .map_err(db("vacuum the seed"))?;
        }
        sqlx::Connection::close(conn)
            .await
            .map_err(db("close the vacuum's connection"))?;
        // The seed writes bags and equipment only: every item in exactly one of the two. One
        // hash join over all items (a million characters hold fifty million), with no statement
        // timeout for this one check.
        let mut tx = self.pool().begin().await.map_err(db("begin"))?;
        sqlx::query("SET LOCAL statement_timeout = 0")
            .execute(&mut *tx)
            .await
            .map_err(db("no statement timeout"))?;
        let misplaced: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM item_instances i
             LEFT JOIN inventories v ON v.item_id = i.id LEFT JOIN equipment e ON e.item_id = i.id
             WHERE (v.item_id IS NULL) = (e.item_id IS NULL)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db("seeded items placed"))?;
        tx.commit().await.map_err(db("commit"))?;
        if misplaced != 0 {
            return Err(StoreError::Io(format!(
                "{misplaced} seeded items are not in exactly one place"
            )));
        }
        Ok(())
    }

    async fn bench_seed_chunk(&self, lo: i64, hi: i64, hash: &str, zones: i32) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.map_err(db("begin"))?;
        sqlx::query("SET LOCAL session_replication_role = replica")
            .execute(&mut *tx)
            .await
            .map_err(db("replica role"))?;
        let stmts = [
            "INSERT INTO accounts (id, username, email, password_hash) OVERRIDING SYSTEM VALUE
             SELECT i, 'bench_' || i, 'bench_' || i || '@bench.test', $3 FROM generate_series($1::int8, $2::int8) i".to_string(),
            "INSERT INTO characters (id, account_id, name, class, kingdom, level, xp, gold, strength, agility, intellect,
                                     stamina, health, mana, zone_id) OVERRIDING SYSTEM VALUE
             SELECT i, i, 'Bench' || i, (ARRAY['warrior','mage','ranger','cleric'])[1 + i % 4],
                    (ARRAY['aldor','veyra','korrim'])[1 + i % 3], 1 + i % 60, i % 1000, 100000, 10, 10, 10, 10, 200, 100, 1 + i % $3
             FROM generate_series($1::int8, $2::int8) i".to_string(),
            "INSERT INTO character_positions (character_id, zone_id, x, y)
             SELECT i, 1 + i % $3, (i % 500)::real, (i % 331)::real FROM generate_series($1::int8, $2::int8) i".to_string(),
            format!(
                "INSERT INTO item_instances (id, def_id, quantity, location, origin) OVERRIDING SYSTEM VALUE
                 SELECT i * 64 + k, CASE k WHEN 0 THEN 1 WHEN 1 THEN 10 ELSE ({BAG_DEFS})[1 + (i + k) % 20] END, 1,
                        CASE WHEN k < 2 THEN 'equipment' ELSE 'inventory' END, 'bench'
                 FROM generate_series($1::int8, $2::int8) i, generate_series(0, {}) k",
                BENCH_ITEMS_PER_CHARACTER - 1
            ),
            "INSERT INTO equipment (character_id, slot, item_id)
             SELECT i, CASE k WHEN 0 THEN 'main_hand' ELSE 'chest' END, i * 64 + k
             FROM generate_series($1::int8, $2::int8) i, generate_series(0, 1) k".to_string(),
            format!(
                "INSERT INTO inventories (character_id, slot, item_id)
                 SELECT i, k - 2, i * 64 + k FROM generate_series($1::int8, $2::int8) i, generate_series(2, {}) k",
                BENCH_ITEMS_PER_CHARACTER - 1
            ),
            format!(
                "INSERT INTO skills (character_id, skill_id, level)
                 SELECT i, 1000 + s, 1 + s % 5 FROM generate_series($1::int8, $2::int8) i, generate_series(0, {}) s",
                BENCH_SKILLS_PER_CHARACTER - 1
            ),
            format!(
                "INSERT INTO quests (character_id, quest_id, status, progress)
                 SELECT i, 1000 + q, 'active', q FROM generate_series($1::int8, $2::int8) i, generate_series(0, {}) q",
                BENCH_QUESTS_PER_CHARACTER - 1
            ),
        ];
        for (k, sql) in stmts.iter().enumerate() {
            // Built from this module's constants only.
            let q = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(lo)
                .bind(hi);
            let q = match k {
                0 => q.bind(hash),
                1 | 2 => q.bind(zones as i64),
                _ => q,
            };
            q.execute(&mut *tx).await.map_err(|e| db("bench seed")(e))?;
        }
        tx.commit().await.map_err(db("commit"))?;
        Ok(())
    }

    /// Claims characters `1..=n` for the batch-save measurement and answers their stored
    /// values, by id.
    pub async fn bench_claim_rows(&self, n: i64) -> StoreResult<Vec<BenchRow>> {
        let rows: Vec<(i64, i64, i32, i64, i32)> = sqlx::query_as(
            "UPDATE characters SET claim_holder = 'bench', claim_epoch = claim_epoch + 1,
                    claim_expires_at = now() + interval '1 hour'
             WHERE id <= $1 RETURNING id, claim_epoch, zone_id, xp, level",
        )
        .bind(n)
        .fetch_all(self.pool())
        .await
        .map_err(db("bench claim"))?;
        let mut rows: Vec<BenchRow> = rows
            .into_iter()
            .map(|(id, epoch, zone, xp, level)| BenchRow {
                fence: Fence {
                    character: CharacterId(id),
                    epoch: ClaimEpoch(epoch),
                },
                zone,
                xp,
                level,
            })
            .collect();
        rows.sort_by_key(|r| r.fence.character);
        Ok(rows)
    }

    /// A connection with the batch-save floor function defined on it.
    pub async fn bench_floor_conn(&self) -> StoreResult<FloorConn> {
        let mut conn = self.pool().acquire().await.map_err(db("acquire"))?;
        // `BATCH_SAVE_SQL` is a constant of this crate.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE OR REPLACE FUNCTION pg_temp.batch_save_floor(n int8, shift real) RETURNS float8 LANGUAGE plpgsql AS $fn$
             DECLARE ids int8[]; epochs int8[]; zones int4[]; xs real[]; ys real[]; zs real[]; rots real[];
                     hs int4[]; ms int4[]; xps int8[]; lvls int4[]; t0 timestamptz;
             BEGIN
               SELECT array_agg(id ORDER BY id), array_agg(claim_epoch ORDER BY id), array_agg(zone_id ORDER BY id),
                      array_agg((id % 500)::real + shift ORDER BY id), array_agg((id % 331)::real ORDER BY id),
                      array_agg(0::real ORDER BY id), array_agg(1::real ORDER BY id), array_agg(150 ORDER BY id),
                      array_agg(90 ORDER BY id), array_agg(xp + 1 ORDER BY id), array_agg(level::integer ORDER BY id)
                 INTO ids, epochs, zones, xs, ys, zs, rots, hs, ms, xps, lvls
                 FROM characters WHERE id <= n;
               t0 := clock_timestamp();
               EXECUTE $sql${BATCH_SAVE_SQL}$sql$ USING ids, epochs, zones, xs, ys, zs, rots, hs, ms, xps, lvls;
               RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
             END $fn$"
        )))
        .execute(&mut *conn)
        .await
        .map_err(db("define batch save floor"))?;
        Ok(FloorConn(conn))
    }
}
