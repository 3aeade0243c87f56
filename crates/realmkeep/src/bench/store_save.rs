//! The batch save for `realmkeep bench store`: 10,000 dirty characters saved through the store,
//! next to the floor, PostgreSQL running the same statement on arrays it built itself and
//! committing it, alternating, the median of each.

use anyhow::Result;
use realmkeep_domain::*;
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::Store;
use std::time::Instant;

/// Rows of the batch-save measurement.
pub(super) const BATCH_ROWS: usize = 10_000;
/// Repetitions of the batch save and its floor, alternating; the median of each is reported.
const BATCH_REPEATS: usize = 9;

/// Median time of a 10,000-row batch save through the store, and of the same statement run by
/// PostgreSQL on arrays it built itself then committed (the floor: no client encoding, no
/// network), and the median of the floor's commits alone.
pub(super) async fn batch_save_bench(store: &Store) -> Result<(f64, f64, f64)> {
    let stored = store.bench_claim_rows(BATCH_ROWS as i64).await?;
    let mut floor_conn = store.bench_floor_conn().await?;
    let mut client = Vec::new();
    let mut floor: Vec<(f64, f64)> = Vec::new();
    for rep in 0..BATCH_REPEATS {
        let shift = rep as f32 + 1.0;
        let rows: Vec<CharacterSnapshot> = stored
            .iter()
            .map(|r| {
                let id = r.fence.character.0;
                CharacterSnapshot {
                    fence: r.fence,
                    position: Position {
                        zone: ZoneId(r.zone),
                        x: (id % 500) as f32 + shift,
                        y: (id % 331) as f32,
                        z: 0.0,
                        rotation: 1.0,
                    },
                    health: 150,
                    mana: 90,
                    xp: r.xp + 1,
                    level: r.level,
                }
            })
            .collect();
        // Alternating, so neither always meets the other's dead row versions first.
        if rep % 2 == 1 {
            floor.push(floor_conn.run(BATCH_ROWS as i64, shift + 0.5).await?);
        }
        let t0 = Instant::now();
        let r = store.save_batch(&rows).await?;
        client.push(t0.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            r.saved.len() == BATCH_ROWS && r.refused.is_empty(),
            "the batch save refused rows"
        );
        if rep % 2 == 0 {
            floor.push(floor_conn.run(BATCH_ROWS as i64, shift + 0.5).await?);
        }
    }
    let mut commits: Vec<f64> = floor.iter().map(|f| f.1).collect();
    let mut floor: Vec<f64> = floor.iter().map(|f| f.0 + f.1).collect();
    Ok((
        median(&mut client),
        median(&mut floor),
        median(&mut commits),
    ))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
