//! The server's execution of zone actions (`realmkeep_server::actions::execute`, the one the
//! store worker and the benchmark use) against a real PostgreSQL: what the zone is answered is
//! what was committed.

use realmkeep_domain::{Actor, CharacterId, Fence, QuestId};
use realmkeep_server::actions::{self, Executor, Unobserved};
use realmkeep_store::Store;
use realmkeep_testkit::{character, fresh_db};
use realmkeep_zone::actions::complete_quest;
use realmkeep_zone::io::{Applied, PersistKind, RequestId};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);

async fn gold_of(s: &Store, c: CharacterId) -> i64 {
    sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap()
}

/// A character claimed by a zone, with quest 1 (5 wolves: 200 xp, 25 gold, 3 potions) done.
async fn quest_ready(s: &Store, name: &str) -> Fence {
    let c = character(s, name).await;
    let fence = s.claim(c, "zone-test", LEASE).await.unwrap();
    let me = Actor::Zone(fence);
    s.accept_quest(me, QuestId(1)).await.unwrap();
    s.progress_quest(me, QuestId(1), 5).await.unwrap();
    fence
}

async fn execute(s: &Store, kind: PersistKind) -> Applied {
    let ex = Executor {
        store: s,
        keys: "zone-test/1",
        observer: &Unobserved,
    };
    actions::execute(&ex, RequestId(1), &kind).await.unwrap()
}

#[tokio::test]
async fn a_quest_completion_answers_the_committed_purse_and_items_even_when_nothing_could_be_read_back(
) {
    let db = fresh_db().await;
    let s = &db.store;
    let fence = quest_ready(s, "Quester").await;
    let c = fence.character;
    let before = gold_of(s, c).await;
    // A row the loader refuses (a name that does not parse) makes any read-back fail: the answer
    // must still be the committed purse, not the reward.
    sqlx::query("UPDATE characters SET name = 'Bad-Name' WHERE id = $1")
        .bind(c.0)
        .execute(s.pool())
        .await
        .unwrap();
    let request = complete_quest::Request {
        fence,
        quest: QuestId(1),
        xp: 0,
    };
    let Applied::CompleteQuest(receipt) = execute(s, request.into()).await else {
        panic!("a quest receipt")
    };
    let after = gold_of(s, c).await;
    assert_eq!(after, before + 25);
    assert_eq!(
        receipt.gold, after,
        "the purse shown is the purse committed"
    );
    let placed: Vec<(i64, i32, i32, i16)> = sqlx::query_as(
        "SELECT i.id, i.def_id, i.quantity, v.slot FROM inventories v
         JOIN item_instances i ON i.id = v.item_id
         WHERE v.character_id = $1 AND i.origin = 'quest_reward' ORDER BY v.slot",
    )
    .bind(c.0)
    .fetch_all(s.pool())
    .await
    .unwrap();
    let shown: Vec<(i64, i32, i32, i16)> = receipt
        .items
        .iter()
        .map(|i| (i.item.0, i.def.0, i.quantity, i.slot))
        .collect();
    assert_eq!(placed.len(), 1);
    assert_eq!(shown, placed, "the reward items as placed");
}

#[tokio::test]
async fn a_quest_reward_lands_on_top_of_the_zones_unsaved_experience_and_is_committed_with_it() {
    let db = fresh_db().await;
    let s = &db.store;
    let fence = quest_ready(s, "Hunter").await;
    let c = fence.character;
    // The zone counts 150 experience the store has not seen (kills since the last save).
    let request = complete_quest::Request {
        fence,
        quest: QuestId(1),
        xp: 150,
    };
    let Applied::CompleteQuest(receipt) = execute(s, request.into()).await else {
        panic!("a quest receipt")
    };
    let (level, xp): (i32, i64) = sqlx::query_as("SELECT level, xp FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(
        receipt.xp,
        150 + 200,
        "the reward on top of the zone's count"
    );
    assert_eq!(xp, receipt.xp, "committed with the completion, as shown");
    assert_eq!(level, realmkeep_domain::rules::level_for_xp(xp));
}
