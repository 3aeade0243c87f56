//! The play page across two nodes, in Debian's Chromium: a player enters on the node serving
//! zone 1 and travels to zone 2, served by the other node; the page follows the redirect to that
//! node's gateway without a reload, the character is claimed there with the next epoch, and it
//! walks on, saved in zone 2. No error in the browser console.

mod support;

use realmkeep_domain::CharacterId;
use support::browser::*;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_player_travels_to_a_zone_of_another_node_and_the_page_follows_without_a_reload() {
    let (env, two) = Env::two_nodes().await;
    let d = driver().await;
    let c = browser(&d).await;
    let id = enter(&env, &c, "wanderer").await;
    assert_eq!(text(&c, "zone").await, "1");
    let epoch = env
        .db
        .store
        .load_character(CharacterId(id))
        .await
        .unwrap()
        .claim_epoch;
    // A mark on the page's window: gone if the page reloads.
    c.execute("window.__stayed = true; return null", vec![])
        .await
        .unwrap();

    fill(&c, "travel-zone", "2").await;
    click(&c, "travel-submit").await;
    until(
        &c,
        "the welcome of zone 2",
        "return document.getElementById('zone').textContent === '2'",
    )
    .await;
    let stayed = c
        .execute("return window.__stayed === true", vec![])
        .await
        .unwrap();
    assert_eq!(
        stayed,
        serde_json::Value::Bool(true),
        "the page did not reload"
    );
    let url = c.execute("return state.ws.url", vec![]).await.unwrap();
    let two_ws = two.gateway.public_url().to_string();
    assert!(
        url.as_str().is_some_and(|u| u.starts_with(&two_ws)),
        "the page's socket is on the other node: {url} (other node: {two_ws})"
    );
    assert!(two.cluster.zones().any(|z| z.holds(CharacterId(id))));
    assert!(!env.cluster.zones().any(|z| z.holds(CharacterId(id))));
    let after = env
        .db
        .store
        .load_character(CharacterId(id))
        .await
        .unwrap()
        .claim_epoch;
    assert!(after.0 > epoch.0, "claimed there with a later epoch");

    // It plays on there: a step is answered and shown.
    let before = text(&c, "pos").await;
    c.execute(
        "document.getElementById('view').dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true})); return null",
        vec![],
    )
    .await
    .unwrap();
    let js = format!("return document.getElementById('pos').textContent !== '{before}'");
    until(&c, "the step shown", &js).await;
    screenshot(&c, "travelled").await;
    assert_eq!(console_errors(&d, &c).await, Vec::<String>::new());
    c.close().await.unwrap();
    two.stop().await;
    env.stop().await;
}
