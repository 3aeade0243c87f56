//! Skills, quests (rewards and level-ups in one transaction), the level-up save, PvP kills and
//! leaderboard scores, against the real private PostgreSQL.

mod support;

use realmkeep_domain::rules::{
    base_attributes, level_for_xp, skill_learn_cost, skill_upgrade_cost, xp_to_reach,
};
use realmkeep_domain::*;
use realmkeep_store::progress::{LeaderboardKind, QUESTS_ACTIVE_MAX, QUEST_PROGRESS_STEP_MAX};
use realmkeep_store::saves::CharacterSnapshot;
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
use std::time::Duration;
use support::*;

async fn scalar_i64(s: &Store, sql: &'static str, c: CharacterId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap()
}

async fn skill_level(s: &Store, c: CharacterId, skill: i32) -> Option<i32> {
    sqlx::query_scalar("SELECT level FROM skills WHERE character_id = $1 AND skill_id = $2")
        .bind(c.0)
        .bind(skill)
        .fetch_optional(s.pool())
        .await
        .unwrap()
}

async fn set_level(s: &Store, c: CharacterId, level: i32, xp: i64) {
    sqlx::query("UPDATE characters SET level = $2, xp = $3 WHERE id = $1")
        .bind(c.0)
        .bind(level)
        .bind(xp)
        .execute(s.pool())
        .await
        .unwrap();
}

/// Makes the zone's fence of `c` stale, as a takeover by another zone would.
async fn steal_claim(s: &Store, c: CharacterId) {
    sqlx::query("UPDATE characters SET claim_epoch = claim_epoch + 1 WHERE id = $1")
        .bind(c.0)
        .execute(s.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn learning_a_skill_costs_gold_and_checks_class_level_and_repeats() {
    let db = fresh_db().await;
    let s = &db.store;
    let ana = character(s, "Ana").await;
    assert_eq!(gold(s, ana).await, 100);

    assert_eq!(s.learn_skill(off(ana), SkillId(1)).await.unwrap(), 1);
    assert_eq!(gold(s, ana).await, 100 - skill_learn_cost(1));
    assert_eq!(skill_level(s, ana, 1).await, Some(1));

    assert!(matches!(
        refusal(s.learn_skill(off(ana), SkillId(1)).await),
        Refusal::NotAllowed(_)
    ));
    assert!(matches!(
        refusal(s.learn_skill(off(ana), SkillId(2)).await),
        Refusal::NotAllowed(_)
    ));
    assert!(matches!(
        refusal(s.learn_skill(off(ana), SkillId(7)).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(
        refusal(s.learn_skill(off(ana), SkillId(99)).await),
        Refusal::NotFound("skill")
    );
    assert_eq!(gold(s, ana).await, 90, "refusals took no gold");
    assert_eq!(skill_level(s, ana, 2).await, None);
    assert_eq!(skill_level(s, ana, 7).await, None);

    // A skill of no class is for everyone; a level requirement met opens the class skill.
    assert_eq!(s.learn_skill(off(ana), SkillId(5)).await.unwrap(), 1);
    set_level(s, ana, 4, xp_to_reach(4)).await;
    assert_eq!(s.learn_skill(off(ana), SkillId(7)).await.unwrap(), 1);
    assert_eq!(
        gold(s, ana).await,
        100 - skill_learn_cost(1) * 2 - skill_learn_cost(4)
    );
    assert_eq!(log_count(s, "skill_learned").await, 3);

    // Not enough gold: refused, nothing changed.
    let bea = character(s, "Bea").await;
    set_gold(s, bea, skill_learn_cost(1) - 1).await;
    assert_eq!(
        refusal(s.learn_skill(off(bea), SkillId(1)).await),
        Refusal::NotEnoughGold
    );
    assert_eq!(gold(s, bea).await, skill_learn_cost(1) - 1);
    assert_eq!(skill_level(s, bea, 1).await, None);
    assert_eq!(log_count(s, "skill_learned").await, 3);
}

#[tokio::test]
async fn upgrading_a_skill_costs_more_each_level_and_stops_at_the_maximum() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Cid").await;
    assert_eq!(
        refusal(s.upgrade_skill(off(c), SkillId(1)).await),
        Refusal::NotFound("learned skill")
    );
    s.learn_skill(off(c), SkillId(1)).await.unwrap();
    set_gold(s, c, 10_000).await;
    let mut expected = 10_000;
    for next in 2..=5 {
        assert_eq!(s.upgrade_skill(off(c), SkillId(1)).await.unwrap(), next);
        expected -= skill_upgrade_cost(next);
        assert_eq!(gold(s, c).await, expected);
    }
    assert!(skill_upgrade_cost(3) > skill_upgrade_cost(2));
    assert_eq!(
        refusal(s.upgrade_skill(off(c), SkillId(1)).await),
        Refusal::LimitReached("skill level")
    );
    assert_eq!(gold(s, c).await, expected, "nothing taken at the maximum");
    assert_eq!(skill_level(s, c, 1).await, Some(5));

    s.learn_skill(off(c), SkillId(5)).await.unwrap();
    set_gold(s, c, skill_upgrade_cost(2) - 1).await;
    assert_eq!(
        refusal(s.upgrade_skill(off(c), SkillId(5)).await),
        Refusal::NotEnoughGold
    );
    assert_eq!(skill_level(s, c, 5).await, Some(1));
    assert_eq!(gold(s, c).await, skill_upgrade_cost(2) - 1);
    assert_eq!(log_count(s, "skill_upgraded").await, 4);
}

#[tokio::test]
async fn a_quest_is_accepted_advanced_and_completed_with_a_level_up() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Dora").await;
    let a = off(c);
    let items_before = item_totals(s).await;

    assert_eq!(
        refusal(s.accept_quest(a, QuestId(99)).await),
        Refusal::NotFound("quest")
    );
    assert!(matches!(
        refusal(s.accept_quest(a, QuestId(2)).await),
        Refusal::NotAllowed(_)
    ));
    s.accept_quest(a, QuestId(1)).await.unwrap();
    assert!(matches!(
        refusal(s.accept_quest(a, QuestId(1)).await),
        Refusal::NotAllowed(_)
    ));

    for bad in [0, -3, QUEST_PROGRESS_STEP_MAX + 1] {
        assert!(matches!(
            refusal(s.progress_quest(a, QuestId(1), bad).await),
            Refusal::Invalid(_)
        ));
    }
    assert_eq!(
        refusal(s.progress_quest(a, QuestId(2), 1).await),
        Refusal::NotFound("active quest")
    );
    assert!(matches!(
        refusal(s.complete_quest(a, QuestId(1), 0).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(s.progress_quest(a, QuestId(1), 3).await.unwrap(), 3);
    assert!(
        matches!(
            refusal(s.complete_quest(a, QuestId(1), 0).await),
            Refusal::NotAllowed(_)
        ),
        "3 of 5 is not done"
    );
    assert_eq!(
        s.progress_quest(a, QuestId(1), 10).await.unwrap(),
        5,
        "progress stops at the target"
    );

    let done = s.complete_quest(a, QuestId(1), 0).await.unwrap();
    assert_eq!(
        (
            done.reward_xp,
            done.reward_gold,
            done.xp_after,
            done.gold_after
        ),
        (200, 25, 200, 125)
    );
    assert_eq!(done.items.len(), 1);
    assert_eq!(done.level_after, level_for_xp(200));
    assert_eq!(done.level_after, 2);
    assert!(done.leveled_up);

    let l = s.load_character(c).await.unwrap();
    assert_eq!((l.level, l.xp, l.gold), (2, 200, 125));
    assert_eq!(l.attributes, base_attributes(Class::Warrior, 2));
    let reward = l
        .inventory
        .iter()
        .find(|i| i.item == done.items[0].item)
        .unwrap();
    assert_eq!(
        reward, &done.items[0],
        "the receipt shows the item as placed"
    );
    assert_eq!((reward.def, reward.quantity), (ItemDefId(100), 3));
    assert_eq!(l.quests.len(), 1);
    assert_eq!(l.quests[0].status, realmkeep_domain::QuestStatus::Completed);
    let completed_at_set: bool = sqlx::query_scalar(
        "SELECT completed_at IS NOT NULL FROM quests WHERE character_id = $1 AND quest_id = 1",
    )
    .bind(c.0)
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert!(completed_at_set);

    // Only once.
    assert!(matches!(
        refusal(s.complete_quest(a, QuestId(1), 0).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(
        refusal(s.progress_quest(a, QuestId(1), 1).await),
        Refusal::NotFound("active quest")
    );
    assert!(matches!(
        refusal(s.accept_quest(a, QuestId(1)).await),
        Refusal::NotAllowed(_)
    ));
    assert_eq!(gold(s, c).await, 125);

    // The potions of the reward are new: exactly 3 more in the world.
    let after = item_totals(s).await;
    let count = |v: &[(i32, i64)], d: i32| v.iter().find(|x| x.0 == d).map_or(0, |x| x.1);
    assert_eq!(count(&after, 100), count(&items_before, 100) + 3);
    assert_items_placed(s).await;
    assert_eq!(log_count(s, "quest_accepted").await, 1);
    assert_eq!(log_count(s, "quest_progress").await, 2);
    assert_eq!(log_count(s, "quest_completed").await, 1);
    assert_eq!(log_count(s, "quest_reward_item").await, 1);
    assert_eq!(log_count(s, "level_up").await, 1);

    // A reward that does not reach the next level does not level up.
    s.accept_quest(a, QuestId(2)).await.unwrap();
    s.progress_quest(a, QuestId(2), 6).await.unwrap();
    let done = s.complete_quest(a, QuestId(2), 0).await.unwrap();
    assert_eq!(done.xp_after, 550);
    assert_eq!(done.level_after, level_for_xp(550));
    assert_eq!(done.leveled_up, level_for_xp(550) > 2);
    assert_eq!(s.load_character(c).await.unwrap().level, done.level_after);
}

#[tokio::test]
async fn a_reward_that_does_not_fit_refuses_the_whole_completion() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Ezra").await;
    let a = off(c);
    s.accept_quest(a, QuestId(1)).await.unwrap();
    s.progress_quest(a, QuestId(1), 5).await.unwrap();
    fill_bag(s, c).await;
    let before = s.load_character(c).await.unwrap();
    let totals = item_totals(s).await;

    assert_eq!(
        refusal(s.complete_quest(a, QuestId(1), 0).await),
        Refusal::InventoryFull
    );
    let after = s.load_character(c).await.unwrap();
    assert_eq!(
        after, before,
        "gold, experience, level, items and quest unchanged"
    );
    assert_eq!(
        after.quests[0].status,
        realmkeep_domain::QuestStatus::Active
    );
    assert_eq!(item_totals(s).await, totals);
    assert_eq!(log_count(s, "quest_completed").await, 0);

    // Gold that would overflow the purse refuses it too.
    let mut tx = s.pool().begin().await.unwrap();
    let freed: i64 = sqlx::query_scalar(
        "DELETE FROM inventories WHERE character_id = $1 AND slot = 59 RETURNING item_id",
    )
    .bind(c.0)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query("DELETE FROM item_instances WHERE id = $1")
        .bind(freed)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    set_gold(s, c, limits::GOLD_MAX - 1).await;
    assert_eq!(
        refusal(s.complete_quest(a, QuestId(1), 0).await),
        Refusal::TooMuchGold
    );
    assert_eq!(
        scalar_i64(
            s,
            "SELECT count(*) FROM inventories WHERE character_id = $1",
            c
        )
        .await,
        59,
        "the reward item was not kept"
    );
    assert_eq!(s.load_character(c).await.unwrap().xp, 0);

    set_gold(s, c, 100).await;
    let done = s.complete_quest(a, QuestId(1), 0).await.unwrap();
    assert_eq!(gold(s, c).await, 125);
    assert_eq!(done.items.len(), 1);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn active_quests_are_limited() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Finn").await;
    let n = QUESTS_ACTIVE_MAX as i32 + 1;
    sqlx::query(
        "INSERT INTO quest_definitions (id, name, level_req, target_monster, target_count, reward_xp, reward_gold)
         SELECT 1000 + g, 'Extra ' || g, 1, 1, 1, 1, 1 FROM generate_series(1, $1) g",
    )
    .bind(n)
    .execute(s.pool())
    .await
    .unwrap();
    for q in 1..n {
        s.accept_quest(off(c), QuestId(1000 + q)).await.unwrap();
    }
    assert_eq!(
        refusal(s.accept_quest(off(c), QuestId(1000 + n)).await),
        Refusal::LimitReached("active quests")
    );
    let active = scalar_i64(s, "SELECT count(*) FROM quests WHERE character_id = $1", c).await;
    assert_eq!(active, QUESTS_ACTIVE_MAX);

    // A completed quest frees its place.
    s.progress_quest(off(c), QuestId(1001), 1).await.unwrap();
    s.complete_quest(off(c), QuestId(1001), 0).await.unwrap();
    s.accept_quest(off(c), QuestId(1000 + n)).await.unwrap();
}

#[tokio::test]
async fn the_level_up_save_is_fenced_and_checks_level_against_experience() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Gwen").await;
    let fence = s.claim(c, "zone-a", Duration::from_secs(30)).await.unwrap();
    let snap = CharacterSnapshot {
        fence,
        position: Position {
            zone: ZoneId(1),
            x: 5.0,
            y: 6.0,
            z: 0.0,
            rotation: 0.0,
        },
        health: 80,
        mana: 20,
        xp: xp_to_reach(2),
        level: 2,
    };
    assert_eq!(s.level_up(&snap).await.unwrap(), 2);
    let l = s.load_character(c).await.unwrap();
    assert_eq!((l.level, l.xp, l.health), (2, xp_to_reach(2), 80));
    assert_eq!(l.attributes, base_attributes(Class::Warrior, 2));
    assert_eq!(l.position.x, 5.0);
    assert_eq!(log_count(s, "level_up").await, 1);

    let bad = CharacterSnapshot {
        level: 3,
        health: 1,
        ..snap
    };
    assert!(matches!(
        refusal(s.level_up(&bad).await),
        Refusal::Invalid(_)
    ));
    assert_eq!(s.load_character(c).await.unwrap(), l, "nothing written");

    steal_claim(s, c).await;
    let stale = CharacterSnapshot {
        xp: xp_to_reach(3),
        level: 3,
        ..snap
    };
    assert_eq!(refusal(s.level_up(&stale).await), Refusal::StaleClaim);
    let after = s.load_character(c).await.unwrap();
    assert_eq!((after.level, after.xp), (2, xp_to_reach(2)));
    assert_eq!(log_count(s, "level_up").await, 1);
}

#[tokio::test]
async fn progress_actions_are_fenced_by_the_claim() {
    let db = fresh_db().await;
    let s = &db.store;
    let c = character(s, "Hale").await;
    let fence = s.claim(c, "zone-a", Duration::from_secs(30)).await.unwrap();
    assert_eq!(
        refusal(s.learn_skill(off(c), SkillId(1)).await),
        Refusal::ClaimHeld,
        "nothing acts behind the zone's back"
    );
    s.accept_quest(Actor::Zone(fence), QuestId(1))
        .await
        .unwrap();
    steal_claim(s, c).await;
    assert_eq!(
        refusal(s.learn_skill(Actor::Zone(fence), SkillId(1)).await),
        Refusal::StaleClaim
    );
    assert_eq!(
        refusal(s.progress_quest(Actor::Zone(fence), QuestId(1), 5).await),
        Refusal::StaleClaim
    );
    assert_eq!(gold(s, c).await, 100);
    assert_eq!(skill_level(s, c, 1).await, None);
    let progress = scalar_i64(
        s,
        "SELECT progress::int8 FROM quests WHERE character_id = $1",
        c,
    )
    .await;
    assert_eq!(progress, 0);
}

#[tokio::test]
async fn pvp_kills_are_counted_and_leaderboards_read_from_postgres() {
    let db = fresh_db().await;
    let s = &db.store;
    let a = character(s, "Ivor").await;
    let b = character(s, "Jade").await;
    let c = character(s, "Kael").await;

    assert_eq!(s.record_pvp_kill(off(a), b).await.unwrap(), 1);
    assert_eq!(s.record_pvp_kill(off(a), c).await.unwrap(), 2);
    assert_eq!(s.record_pvp_kill(off(b), c).await.unwrap(), 1);
    assert!(matches!(
        refusal(s.record_pvp_kill(off(a), a).await),
        Refusal::Invalid(_)
    ));
    assert_eq!(
        refusal(s.record_pvp_kill(off(a), CharacterId(999_999)).await),
        Refusal::NotFound("character")
    );
    let fence = s.claim(a, "zone-a", Duration::from_secs(30)).await.unwrap();
    assert_eq!(s.record_pvp_kill(Actor::Zone(fence), b).await.unwrap(), 3);
    steal_claim(s, a).await;
    assert_eq!(
        refusal(s.record_pvp_kill(Actor::Zone(fence), b).await),
        Refusal::StaleClaim
    );
    assert_eq!(s.load_character(a).await.unwrap().pvp_kills, 3);
    assert_eq!(log_count(s, "pvp_kill").await, 4);

    assert_eq!(
        s.leaderboard_scores(LeaderboardKind::Pvp, 10)
            .await
            .unwrap(),
        vec![(a, 3.0), (b, 1.0)],
        "characters without a kill are not ranked"
    );

    set_level(s, b, 5, 3_000).await;
    set_level(s, c, 5, 3_100).await;
    let board = s
        .leaderboard_scores(LeaderboardKind::Level, 10)
        .await
        .unwrap();
    let ids: Vec<CharacterId> = board.iter().map(|r| r.0).collect();
    assert_eq!(ids, vec![c, b, a]);
    assert_eq!(board[0].1, 5e12 + 3_100.0);
    assert_eq!(board[2].1, 1e12);
    assert_eq!(
        s.leaderboard_scores(LeaderboardKind::Level, 2)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        s.leaderboard_scores(LeaderboardKind::Level, i64::MAX)
            .await
            .unwrap()
            .len(),
        3,
        "a large limit is cut down, not refused"
    );
    assert!(matches!(
        refusal(s.leaderboard_scores(LeaderboardKind::Pvp, 0).await),
        Refusal::Invalid(_)
    ));
}
