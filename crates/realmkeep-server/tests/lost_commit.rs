//! A commit whose answer is lost (bug 1.5): the connection is cut while COMMIT is on its way, and
//! the player must be told what the database did, not "nothing changed".
//!
//! How the cut is made: this test binary's private PostgreSQL waits for a synchronous standby that
//! never comes, for the sessions of one store only (every other commit is `local`). A COMMIT
//! there is durable and then hangs; terminating its backend (as a lost connection does) lets it
//! stand committed while the client only sees its connection die. Alone in its test binary, so no other
//! test shares the server while it is set so.

use realmkeep_domain::{Actor, CharacterId, Gold, QuestId};
use realmkeep_server::actions::{self, Executor, Unobserved};
use realmkeep_store::{Store, StoreError, StoreOptions};
use realmkeep_testkit::{character, fresh_db, TestDb};
use realmkeep_zone::actions::{complete_quest, market_buy, release, trade};
use realmkeep_zone::io::{Applied, PersistKind, RequestId, TradeOffer};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);
const HOLDER: &str = "zone-cut/1/0123456789abcdef";
/// Long enough for the slowest step on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(30);

async fn gold_of(s: &Store, c: CharacterId) -> i64 {
    sqlx::query_scalar("SELECT gold FROM characters WHERE id = $1")
        .bind(c.0)
        .fetch_one(s.pool())
        .await
        .unwrap()
}

async fn exec(s: &Store, sql: impl sqlx::SqlSafeStr) {
    sqlx::query(sql).execute(s.pool()).await.unwrap();
}

/// A store whose commits hang after they are durable, until their backend is terminated. Only
/// its own sessions wait for the standby (set at their start): a session the test's own store
/// opens meanwhile commits as usual (set for the database, one opened after it hung for good).
async fn hanging_commits(db: &TestDb) -> Store {
    let s = &db.store;
    exec(s, "ALTER SYSTEM SET synchronous_commit = 'local'").await;
    exec(s, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'").await;
    exec(s, "SELECT pg_reload_conf()").await;
    let waiting = format!("{}?options=-c%20synchronous_commit%3Don", db.url);
    Store::connect(&waiting, &StoreOptions::default())
        .await
        .unwrap()
}

async fn normal_commits(db: &TestDb) {
    let s = &db.store;
    exec(s, "ALTER SYSTEM RESET synchronous_standby_names").await;
    exec(s, "ALTER SYSTEM RESET synchronous_commit").await;
    exec(s, "SELECT pg_reload_conf()").await;
}

/// Terminates the backend whose COMMIT is waiting, as a lost connection would end it.
async fn cut_the_commit(db: &TestDb) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no COMMIT waited to be cut"
        );
        let cut: Option<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = $1 AND wait_event = 'SyncRep' LIMIT 1",
        )
        .bind(&db.name)
        .fetch_optional(db.store.pool())
        .await
        .unwrap();
        if cut == Some(true) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn execute(store: Store, id: u64, kind: PersistKind) -> Result<Applied, StoreError> {
    let ex = Executor {
        store: &store,
        keys: HOLDER,
        observer: &Unobserved,
    };
    actions::execute(&ex, RequestId(id), &kind).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trade_a_market_buy_and_a_quest_completion_whose_commit_answers_were_lost_are_answered_done_and_pay_once_and_a_retried_release_succeeds(
) {
    let db = fresh_db().await;
    let s = &db.store;
    let (a, b) = (character(s, "Payer").await, character(s, "Payee").await);
    let seller = character(s, "Seller").await;
    let fa = s.claim(a, HOLDER, LEASE).await.unwrap();
    let fb = s.claim(b, HOLDER, LEASE).await.unwrap();
    // Quest 1 (5 wolves: 25 gold) done and ready to complete.
    s.accept_quest(Actor::Zone(fb), QuestId(1)).await.unwrap();
    s.progress_quest(Actor::Zone(fb), QuestId(1), 5)
        .await
        .unwrap();
    let (a_before, b_before) = (gold_of(s, a).await, gold_of(s, b).await);
    let cutting = hanging_commits(&db).await;

    // A gold-only trade: 10 gold from a to b. Its COMMIT is cut.
    let request = trade::Request {
        a: fa,
        a_gives: TradeOffer {
            items: Vec::new(),
            gold: Gold::new(10).unwrap(),
        },
        b: fb,
        b_gives: TradeOffer::default(),
    };
    let running = tokio::spawn(execute(cutting.clone(), 7, request.into()));
    cut_the_commit(&db).await;
    let answer = running.await.unwrap();
    assert_eq!(
        (gold_of(s, a).await, gold_of(s, b).await),
        (a_before - 10, b_before + 10)
    );
    let Ok(Applied::Trade(receipt)) = answer else {
        panic!("the trade committed, and the answer must say so: {answer:?}")
    };
    assert_eq!(
        (receipt.a_gold, receipt.b_gold),
        (a_before - 10, b_before + 10),
        "the purses as committed"
    );

    // A market buy (a zone's command since the market goes through the zone): cut at COMMIT, the
    // buyer is answered with the purchase as committed, and paid once.
    let item = s.inventory(seller).await.unwrap()[0].clone();
    let listing = s
        .list_item(
            Actor::Offline(seller),
            item.item,
            Gold::new(30).unwrap(),
            24,
        )
        .await;
    let listing = match listing {
        Ok(l) => l,
        Err(e) => panic!("listing for the buy: {e}"),
    };
    let a_gold = gold_of(s, a).await;
    let buy = market_buy::Request { fence: fa, listing };
    let running = tokio::spawn(execute(cutting.clone(), 9, buy.into()));
    cut_the_commit(&db).await;
    let answer = running.await.unwrap();
    assert_eq!(gold_of(s, a).await, a_gold - 30, "paid once");
    let Ok(Applied::MarketBuy(bought)) = answer else {
        panic!("the buy committed, and the answer must say so: {answer:?}")
    };
    assert_eq!(bought.gold_after, a_gold - 30, "the purse as committed");
    let bag = s.inventory(a).await.unwrap();
    assert!(
        bag.contains(&bought.item),
        "the item where the receipt says: {:?} in {bag:?}",
        bought.item
    );

    // A quest completion cut at COMMIT: answered with the committed purse, rewarded once.
    let b_gold = gold_of(s, b).await;
    let complete = complete_quest::Request {
        fence: fb,
        quest: QuestId(1),
        xp: 0,
    };
    let running = tokio::spawn(execute(cutting.clone(), 10, complete.into()));
    cut_the_commit(&db).await;
    let answer = running.await.unwrap();
    assert_eq!(gold_of(s, b).await, b_gold + 25, "rewarded once");
    let Ok(Applied::CompleteQuest(done)) = answer else {
        panic!("the completion committed, and the answer must say so: {answer:?}")
    };
    assert_eq!(done.gold, b_gold + 25, "the purse as committed");

    // A zone change: the final save and release, cut at COMMIT, then tried again by the save lane.
    let mut snapshot = realmkeep_domain::records::CharacterSnapshot {
        fence: fa,
        position: s.load_character(a).await.unwrap().position,
        health: 50,
        mana: 20,
        xp: 0,
        level: 1,
    };
    snapshot.position.x = 42.0;
    let leave = release::Request {
        snapshot,
        transfer_to: Some(realmkeep_domain::ZoneId(2)),
    };
    let running = tokio::spawn(execute(cutting.clone(), 8, leave.clone().into()));
    cut_the_commit(&db).await;
    let first = running.await.unwrap();
    assert!(
        matches!(&first, Err(e) if e.refusal().is_none()),
        "an unknown outcome, not a refusal: {first:?}"
    );
    normal_commits(&db).await;
    let again = execute(cutting.clone(), 8, leave.into()).await;
    assert!(
        matches!(again, Ok(Applied::Release(_))),
        "the retry finds the release done: {again:?}"
    );
    let claim = s.claim_info(a).await.unwrap();
    assert!(claim.holder.is_none(), "released");
    let x: Option<f32> =
        sqlx::query_scalar("SELECT x FROM character_positions WHERE character_id = $1")
            .bind(a.0)
            .fetch_optional(s.pool())
            .await
            .unwrap();
    assert_eq!(x, Some(42.0), "the final save is in");
}
