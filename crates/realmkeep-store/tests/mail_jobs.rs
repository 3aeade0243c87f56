//! Mail's jobs and races against the real private PostgreSQL: the expiry job that returns or
//! destroys (also on several nodes at once) and concurrent claims of one mail's attachments.

mod support;

use realmkeep_domain::limits::MAIL_SUBJECT_CHARS_MAX;
use realmkeep_domain::*;
use realmkeep_store::mail::MailKind;
use realmkeep_store::{Refusal, Store};
use realmkeep_testkit::fresh_db;
use support::*;

fn gold(v: i64) -> Gold {
    Gold::new(v).unwrap()
}

async fn expire_mail(s: &Store, m: MailId) {
    sqlx::query("UPDATE mail SET expires_at = now() - interval '1 minute' WHERE id = $1")
        .bind(m.0)
        .execute(s.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_mail_is_returned_once_then_destroyed() {
    let db = fresh_db().await;
    let s = &db.store;
    let alice = character(s, "Alice").await;
    let bob = character(s, "Bobby").await;
    let sword = grant_bag_item(s, alice, 5, 1).await;
    let pelt = grant_bag_item(s, alice, 200, 9).await;
    let gift = s
        .send_mail(
            off(alice),
            bob,
            "A long subject that fills up the whole line of sixty-four",
            "",
            gold(30),
            &[sword, pelt],
        )
        .await
        .unwrap();
    let letter = s
        .send_mail(off(alice), bob, "Just words", "", Gold::ZERO, &[])
        .await
        .unwrap();
    let reward = s
        .send_system_mail(
            bob,
            "Reward",
            "",
            gold(5),
            &[(ItemDefId(201), 3)],
            MailKind::System,
        )
        .await
        .unwrap();
    let fresh = s
        .send_mail(off(alice), bob, "Not yet", "", gold(1), &[])
        .await
        .unwrap();
    let gold_before = total_gold(s).await;

    assert_eq!(s.return_expired_mail(100).await.unwrap(), 0);
    assert!(matches!(
        refusal(s.return_expired_mail(-5).await),
        Refusal::Invalid(_)
    ));
    for m in [gift, letter, reward] {
        expire_mail(s, m).await;
    }
    assert_eq!(s.return_expired_mail(100).await.unwrap(), 3);
    assert_eq!(s.return_expired_mail(100).await.unwrap(), 0);
    assert_items_placed(s).await;

    // The gift went back as a new 'returned' mail with the same items and the gold.
    let bobs: Vec<MailId> = s
        .list_mail(bob)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(bobs, vec![fresh]);
    let back = s.list_mail(alice).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].kind, MailKind::Returned);
    assert_eq!(back[0].sender, Some(bob));
    assert!(back[0].subject.starts_with("Returned: A long subject"));
    assert_eq!(back[0].subject.chars().count(), MAIL_SUBJECT_CHARS_MAX);
    let view = s.read_mail(off(alice), back[0].id).await.unwrap();
    assert_eq!(view.gold, 30);
    let items: Vec<i64> = view.attachments.iter().map(|a| a.item_id).collect();
    assert_eq!(items, vec![sword.0, pelt.0]);
    // The system reward had no sender: destroyed, gold and item, with log rows.
    assert_eq!(total_gold(s).await, gold_before - 5);
    assert_eq!(log_count(s, "mail_return").await, 1);
    assert_eq!(log_count(s, "mail_return_item").await, 2);
    assert_eq!(log_count(s, "mail_expired_destroyed").await, 2);
    let destroyed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM item_instances WHERE def_id = 201 AND origin = 'system'",
    )
    .fetch_one(s.pool())
    .await
    .unwrap();
    assert_eq!(destroyed, 0);

    // A returned mail that expires again is destroyed, not bounced back.
    let totals_before = item_totals(s).await;
    expire_mail(s, back[0].id).await;
    assert_eq!(s.return_expired_mail(1).await.unwrap(), 1);
    assert!(s.list_mail(alice).await.unwrap().is_empty());
    assert_eq!(total_gold(s).await, gold_before - 5 - 30);
    let gone: i64 = sqlx::query_scalar("SELECT count(*) FROM item_instances WHERE id = ANY($1)")
        .bind(vec![sword.0, pelt.0])
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(gone, 0);
    assert_ne!(item_totals(s).await, totals_before);
    assert_eq!(log_count(s, "mail_expired_destroyed").await, 2 + 3);
    assert_items_placed(s).await;
}

#[tokio::test]
async fn expired_mail_of_a_vanished_sender_is_destroyed_and_claimed_mail_deleted() {
    let db = fresh_db().await;
    let s = &db.store;
    let alice = character(s, "Alice").await;
    let bob = character(s, "Bobby").await;
    let ore = grant_bag_item(s, alice, 203, 5).await;
    let orphan = s
        .send_mail(off(alice), bob, "Ore", "", gold(7), &[ore])
        .await
        .unwrap();
    let claimed = s
        .send_mail(off(alice), bob, "Coins", "", gold(3), &[])
        .await
        .unwrap();
    s.claim_attachments(off(bob), claimed).await.unwrap();
    // The sender is gone (the foreign key sets it to NULL when a character is deleted).
    sqlx::query("UPDATE mail SET sender_character_id = NULL WHERE id = $1")
        .bind(orphan.0)
        .execute(s.pool())
        .await
        .unwrap();
    expire_mail(s, orphan).await;
    expire_mail(s, claimed).await;
    let gold_before = total_gold(s).await;
    assert_eq!(s.return_expired_mail(10).await.unwrap(), 2);
    assert_eq!(row_count(s, "mail").await, 0);
    assert_eq!(total_gold(s).await, gold_before - 7);
    assert_eq!(log_count(s, "mail_expired_destroyed").await, 2);
    assert_eq!(log_count(s, "mail_return").await, 0);
    assert_items_placed(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_double_claims_pay_out_once() {
    const MAILS: usize = 10;
    const CLAIMS_PER_MAIL: usize = 4;
    let db = fresh_db().await;
    let s = db.store.clone();
    let alice = character(&s, "Alice").await;
    let bob = character(&s, "Bobby").await;
    set_gold(&s, alice, 10_000).await;
    let mut mails = Vec::new();
    for _ in 0..MAILS {
        let it = grant_bag_item(&s, alice, 204, 2).await;
        mails.push(
            s.send_mail(off(alice), bob, "Race", "", gold(100), &[it])
                .await
                .unwrap(),
        );
    }
    let gold_before = total_gold(&s).await;
    let totals = item_totals(&s).await;
    let mut tasks = Vec::new();
    for m in &mails {
        for _ in 0..CLAIMS_PER_MAIL {
            let s = s.clone();
            let m = *m;
            tasks.push(tokio::spawn(async move {
                (m, s.claim_attachments(off(bob), m).await)
            }));
        }
    }
    let mut wins = std::collections::HashMap::new();
    for t in tasks {
        let (m, r) = t.await.unwrap();
        match r {
            Ok(c) => {
                assert_eq!(c.gold, gold(100));
                assert_eq!(c.items.len(), 1);
                *wins.entry(m).or_insert(0) += 1;
            }
            Err(e) => assert_eq!(e.refusal(), Some(&Refusal::NotFound("attachments"))),
        }
    }
    assert_eq!(wins.len(), MAILS);
    assert!(
        wins.values().all(|n| *n == 1),
        "exactly one claim wins each mail"
    );
    assert_eq!(support::gold(&s, bob).await, 100 + 100 * MAILS as i64);
    assert_eq!(total_gold(&s).await, gold_before);
    assert_eq!(item_totals(&s).await, totals);
    assert_eq!(log_count(&s, "mail_claim").await, MAILS as i64);
    assert_items_placed(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_job_on_several_nodes_handles_each_mail_once() {
    const MAILS: usize = 30;
    const NODES: usize = 4;
    let db = fresh_db().await;
    let s = db.store.clone();
    let alice = character(&s, "Alice").await;
    let bob = character(&s, "Bobby").await;
    set_gold(&s, alice, 10_000).await;
    for i in 0..MAILS {
        let it = grant_bag_item(&s, alice, 204, 1).await;
        let m = s
            .send_mail(off(alice), bob, &format!("Parcel {i}"), "", gold(10), &[it])
            .await
            .unwrap();
        expire_mail(&s, m).await;
    }
    let gold_before = total_gold(&s).await;
    let totals = item_totals(&s).await;
    let mut jobs = Vec::new();
    for _ in 0..NODES {
        let s = s.clone();
        jobs.push(tokio::spawn(
            async move { s.return_expired_mail(1_000).await },
        ));
    }
    // Alice keeps trading meanwhile, so her row is sometimes locked: those mails wait a run.
    for _ in 0..5 {
        s.send_mail(off(alice), bob, "Note", "", gold(1), &[])
            .await
            .unwrap();
    }
    let mut handled: u64 = 0;
    for j in jobs {
        handled += j.await.unwrap().expect("the job never fails, it skips");
    }
    handled += s.return_expired_mail(1_000).await.unwrap();
    assert_eq!(handled, MAILS as u64);
    assert_eq!(s.list_mail(alice).await.unwrap().len(), MAILS);
    assert_eq!(log_count(&s, "mail_return").await, MAILS as i64);
    assert_eq!(total_gold(&s).await, gold_before);
    assert_eq!(item_totals(&s).await, totals);
    assert_items_placed(&s).await;
}
