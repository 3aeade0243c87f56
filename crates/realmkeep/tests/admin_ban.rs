//! `realmkeep admin ban --account` through the binary, as an operator runs it: the ban commits,
//! a session token issued before it is refused as revoked, the account's character in the world
//! finds `Kicked` in its inbox (an offline one gets nothing), and no zone can claim them. With
//! Redis out of reach the ban still holds, and the command fails saying so without printing the
//! password.

use realmkeep_cache::{
    Cache, CacheOptions, InvalidSession, NodeId, PlayerEvent, SessionCheck, SessionSecret,
};
use realmkeep_domain::{AccountId, CharacterName, Class, Kingdom};
use realmkeep_store::bans::BanTarget;
use realmkeep_store::{Refusal, Store};
use std::process::{Command, Output};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);
/// How long the test's cache may take to reach Redis on a loaded machine.
const CONNECT_WAIT: Duration = Duration::from_secs(20);

fn admin_ban(db_url: &str, redis_url: &str, account: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_realmkeep"))
        .args(["admin", "ban", "--account", account])
        .args(["--operator", "gm-test", "--reason", "botting"])
        .env("DATABASE_URL", db_url)
        .env("REDIS_URL", redis_url)
        .output()
        .expect("realmkeep runs")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

async fn account_of(store: &Store, name: &str) -> AccountId {
    store.account_id_by_name(name).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_revokes_the_sessions_and_kicks_the_characters_in_the_world() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let store = db.store.clone();
    realmkeep_testkit::operator(&store, "gm-test", realmkeep_domain::AdminRole::Moderator).await;
    let online = realmkeep_testkit::character(&store, "Botter").await;
    let account = account_of(&store, "acc_Botter").await;
    let offline = store
        .create_character(
            account,
            &CharacterName::parse("BotterAlt").unwrap(),
            Class::Mage,
            Kingdom::Aldor,
        )
        .await
        .unwrap();
    store
        .claim_and_load(online, "zone-1/test/1", LEASE)
        .await
        .unwrap();
    let secret = SessionSecret::new(b"admin-ban-test-session-secret-0123456789").unwrap();
    let cache = Cache::connect(
        &redis.url(),
        CacheOptions::new(NodeId::parse("test").unwrap(), secret),
    )
    .await
    .unwrap();
    assert!(cache.wait_until_up(CONNECT_WAIT).await);
    let token = cache.sessions().issue(account).await.token;
    assert!(cache.sessions().validate(token.as_str()).await.is_valid());

    let out = admin_ban(&db.url, &redis.url(), "acc_Botter");
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("1 character(s) in the world kicked"),
        "{said}"
    );
    assert!(!said.contains(redis.password()), "{said}");

    assert_eq!(
        cache.sessions().validate(token.as_str()).await,
        SessionCheck::Invalid(InvalidSession::Revoked)
    );
    let inbox = cache.inbox().read(online, None, 10).await.unwrap();
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    assert_eq!(
        inbox[0].event,
        PlayerEvent::Kicked {
            reason: "banned: botting".into()
        }
    );
    assert!(cache
        .inbox()
        .read(offline, None, 10)
        .await
        .unwrap()
        .is_empty());
    let claim = store.claim_and_load(offline, "zone-2/test/1", LEASE).await;
    assert_eq!(
        claim.unwrap_err().refusal(),
        Some(&Refusal::Banned),
        "no zone takes the banned account's characters"
    );
    cache.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_ban_holds_and_the_command_says_what_was_not_delivered() {
    let db = realmkeep_testkit::fresh_db().await;
    let redis = realmkeep_testkit::redis();
    let store = db.store.clone();
    realmkeep_testkit::operator(&store, "gm-test", realmkeep_domain::AdminRole::Moderator).await;
    realmkeep_testkit::character(&store, "Stranded").await;
    let account = account_of(&store, "acc_Stranded").await;
    let wrong = format!(
        "redis://realmkeep:not-the-password-4711@127.0.0.1:{}/",
        redis.port()
    );

    let out = admin_ban(&db.url, &wrong, "acc_Stranded");
    assert!(!out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("is in force in PostgreSQL"), "{said}");
    assert!(said.contains("realmkeep admin kick"), "{said}");
    assert!(!said.contains("not-the-password-4711"), "{said}");
    let bans = store
        .ban_history(BanTarget::Account(account))
        .await
        .unwrap();
    assert_eq!(bans.len(), 1, "the ban committed");
}
