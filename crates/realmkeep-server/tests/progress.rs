//! Saves and records that follow from play: a kill's level-up is saved at once (not at the next
//! batch), its gold is credited through the store, and its game logs reach `game_logs`.

mod support;

use realmkeep_server::Notice;
use realmkeep_zone::io::{PlayerCommand, PlayerEvent};
use realmkeep_zone::MonsterMode;
use std::time::Duration;
use support::*;

/// The Grey Wolf: level 1, the easiest kill.
const GREY_WOLF: i32 = 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_up_is_saved_at_once_and_kill_gold_and_logs_reach_postgres() {
    let env = Env::new().await;
    let c = character(env.store(), "Beorn").await;
    // One experience point short of level 2.
    let xp = realmkeep_domain::rules::xp_to_reach(2) - 1;
    sqlx::query("UPDATE characters SET xp = $2 WHERE id = $1")
        .bind(c.0)
        .bind(xp)
        .execute(env.store().pool())
        .await
        .unwrap();
    let gold_before: i64 = sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(env.store().pool())
        .await
        .unwrap();
    // Batch saves far apart: only the immediate save can write the new level in time.
    let config = config("n1", &[GREENVALE]).with_save_interval(Duration::from_secs(600));
    let cluster = env.cluster_with(config).await;
    let host = cluster.zone(GREENVALE).unwrap().clone();
    let mut r = cluster.join(GREENVALE, c).await.unwrap();
    joined(&mut r.notices).await;

    // Hunt the nearest wolf until the level-up arrives; pick a new one if it got away.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let level = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no level-up within a minute of hunting"
        );
        let wolf = host
            .inspect(move |z| {
                let me = z.player(c)?;
                z.monsters()
                    .into_iter()
                    .filter(|m| m.def == GREY_WOLF && m.mode != MonsterMode::Dead)
                    .min_by(|a, b| {
                        let d = |m: &realmkeep_zone::MonsterView| {
                            (m.x - me.x).powi(2) + (m.y - me.y).powi(2)
                        };
                        d(a).total_cmp(&d(b))
                    })
            })
            .await
            .unwrap()
            .expect("a living wolf");
        host.command(
            c,
            PlayerCommand::Attack {
                target: wolf.net_id,
            },
        )
        .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match r.notices.recv().await {
                    Some(Notice::Event(PlayerEvent::LevelUp { level })) => return level,
                    Some(_) => {}
                    None => panic!("notices closed"),
                }
            }
        })
        .await;
        if let Ok(level) = got {
            break level;
        }
    };
    assert_eq!(level, 2);
    eventually("the level-up save", || async {
        let (_, stored_level, stored_xp, _) = stored_stats(env.store(), c).await;
        (stored_level == 2 && stored_xp > xp).then_some(())
    })
    .await;
    assert!(
        host.metrics().level_up_saves_ok >= 1,
        "the immediate save wrote it"
    );
    // The wolf's gold went through the store into the purse.
    eventually("the kill's gold", || async {
        let gold: i64 = sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
            .bind(c.0)
            .fetch_one(env.store().pool())
            .await
            .unwrap();
        (gold > gold_before).then_some(())
    })
    .await;
    // The kill and the level-up are in game_logs (flushed in batches).
    eventually("the kill in game_logs", || async {
        let logs = env.store().logs_of_character(c.0, 100).await.unwrap();
        let kinds: Vec<&str> = logs.iter().map(|l| l.event_type.as_str()).collect();
        (kinds.contains(&"monster_kill") && kinds.contains(&"level_up")).then_some(())
    })
    .await;
    assert!(host.metrics().log_events_written >= 2);
    cluster.shutdown().await;
    let (_, stored_level, _, _) = stored_stats(env.store(), c).await;
    assert_eq!(stored_level, 2);
}
