//! The admin API over HTTP, as an operator's script drives it: operators log in on their own
//! endpoint; each action needs its role (403 `not_allowed` otherwise) and a reason (400
//! otherwise), and a refused one changes nothing; changes are logged with the operator and
//! browsable; a ban and a kick close the player's socket live and a broadcast reaches it; the
//! node's live state is read; the OpenAPI document describes it all.

mod support;

use realmkeep_domain::AdminRole;
use realmkeep_protocol::admin::*;
use realmkeep_protocol::client::Incoming;
use realmkeep_protocol::ws::{Announcement, ServerMsg};
use realmkeep_protocol::{CloseCode, Reason};
use std::time::{Duration, Instant};
use support::admin::{call, login, ok, refused};
use support::{fingerprint, next_msg, Env, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_act_within_their_role_with_a_reason_and_every_change_is_logged() {
    let env = Env::new().await;
    let (s, doc) = call(&env, "GET", "/v1/admin/openapi.json", None, "").await;
    assert_eq!(s, 200);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    for p in [
        "/v1/admin/sessions",
        "/v1/admin/players",
        "/v1/admin/characters/{id}/gold",
        "/v1/admin/logs",
        "/v1/admin/accounts/{id}/ban",
        "/v1/admin/broadcasts",
        "/v1/admin/operators",
        "/v1/admin/status",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} documented");
    }
    for t in [
        "CharacterPage",
        "LogPage",
        "GoldChange",
        "BanRequest",
        "AdminError",
    ] {
        assert!(
            doc["components"]["schemas"][t].is_object(),
            "{t} documented"
        );
    }

    let moderator = login(&env, "mod-mia", AdminRole::Moderator).await;
    let gm = login(&env, "gm-gus", AdminRole::GameMaster).await;
    let admin = login(&env, "admin-ada", AdminRole::Administrator).await;
    let wrong =
        serde_json::json!({ "name": "gm-gus", "password": "not the right one" }).to_string();
    refused(
        &env,
        "POST",
        "/v1/admin/sessions",
        None,
        &wrong,
        401,
        Reason::BadCredentials,
    )
    .await;
    let (player_token, hero) = env.player("hero").await;
    refused(
        &env,
        "GET",
        "/v1/admin/players?q=her",
        None,
        "",
        401,
        Reason::Unauthorized,
    )
    .await;
    refused(
        &env,
        "GET",
        "/v1/admin/players?q=her",
        Some(&player_token),
        "",
        401,
        Reason::Unauthorized,
    )
    .await;

    let hits: Vec<PlayerHit> =
        ok(&env, "GET", "/v1/admin/players?q=HER", &moderator, "", 200).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].character_id, hits[0].account.as_str()),
        (hero, "hero")
    );
    refused(
        &env,
        "GET",
        "/v1/admin/players?q=%20",
        Some(&moderator),
        "",
        400,
        Reason::Invalid,
    )
    .await;
    refused(
        &env,
        "GET",
        "/v1/admin/players?q=a&limit=x",
        Some(&moderator),
        "",
        400,
        Reason::BadFields,
    )
    .await;
    let page: CharacterPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{hero}"),
        &moderator,
        "",
        200,
    )
    .await;
    assert_eq!(
        (page.name.as_str(), page.account_id, page.holder.in_world),
        ("hero", hits[0].account_id, false)
    );
    assert!(!page.bag.is_empty(), "the starting kit");
    refused(
        &env,
        "GET",
        "/v1/admin/characters/987654",
        Some(&moderator),
        "",
        404,
        Reason::NotFound,
    )
    .await;
    refused(
        &env,
        "GET",
        "/v1/admin/characters/abc",
        Some(&moderator),
        "",
        400,
        Reason::BadFields,
    )
    .await;

    let gold_path = format!("/v1/admin/characters/{hero}/gold");
    let before = fingerprint(&env).await;
    let why = refused(
        &env,
        "POST",
        &gold_path,
        Some(&moderator),
        r#"{"delta":100,"reason":"refund"}"#,
        403,
        Reason::NotAllowed,
    )
    .await;
    assert!(why.contains("game_master"), "{why}");
    refused(
        &env,
        "POST",
        &gold_path,
        Some(&gm),
        r#"{"delta":100,"reason":"  "}"#,
        400,
        Reason::Invalid,
    )
    .await;
    refused(
        &env,
        "POST",
        &gold_path,
        Some(&gm),
        r#"{"delta":100,"reason":"x","extra":1}"#,
        400,
        Reason::BadFields,
    )
    .await;
    refused(
        &env,
        "POST",
        &gold_path,
        Some(&gm),
        r#"{"delta":0,"reason":"nothing"}"#,
        400,
        Reason::Invalid,
    )
    .await;
    refused(
        &env,
        "POST",
        "/v1/admin/operators",
        Some(&gm),
        r#"{"name":"x-y-z","role":"moderator","password":"long enough pass","reason":"hire"}"#,
        403,
        Reason::NotAllowed,
    )
    .await;
    assert_eq!(
        fingerprint(&env).await.0,
        before.0,
        "refusals change nothing in PostgreSQL"
    );

    let g: GoldChanged = ok(
        &env,
        "POST",
        &gold_path,
        &gm,
        r#"{"delta":100,"reason":"refund for ticket 9"}"#,
        200,
    )
    .await;
    assert_eq!(g.gold, page.gold + 100);
    let def = page.bag[0].def;
    let granted: ItemGranted = ok(
        &env,
        "POST",
        &format!("/v1/admin/characters/{hero}/items"),
        &gm,
        &format!(r#"{{"def":{def},"quantity":1,"reason":"lost to a bug"}}"#),
        201,
    )
    .await;
    let (s, b) = call(
        &env,
        "POST",
        &format!("/v1/admin/characters/{hero}/items/{}/remove", granted.item),
        Some(&gm),
        r#"{"reason":"granted twice"}"#,
    )
    .await;
    assert_eq!(s, 204, "{b}");
    let (s, b) = call(
        &env,
        "POST",
        &format!("/v1/admin/characters/{hero}/teleport"),
        Some(&gm),
        r#"{"zone":2,"x":40,"y":50,"reason":"stuck in a wall"}"#,
    )
    .await;
    assert_eq!(s, 204, "{b}");
    let page: CharacterPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{hero}"),
        &moderator,
        "",
        200,
    )
    .await;
    assert_eq!(
        (page.gold, page.position.zone, page.position.x),
        (g.gold, 2, 40.0)
    );
    assert!(page.bag.iter().all(|i| i.item != granted.item));

    let logs: LogPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/logs?character={hero}&event_type=admin_gold"),
        &moderator,
        "",
        200,
    )
    .await;
    assert_eq!(logs.rows.len(), 1);
    let d = &logs.rows[0].details;
    assert_eq!(
        (
            d["operator"].as_str(),
            d["operator_role"].as_str(),
            d["reason"].as_str()
        ),
        (
            Some("gm-gus"),
            Some("game_master"),
            Some("refund for ticket 9")
        )
    );
    let first: LogPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/logs?character={hero}&limit=2"),
        &moderator,
        "",
        200,
    )
    .await;
    let cursor = first.next.expect("more than two rows");
    let second: LogPage = ok(
        &env,
        "GET",
        &format!(
            "/v1/admin/logs?character={hero}&limit=2&before_at={}&before_id={}",
            cursor.before_at.replace('+', "%2B"),
            cursor.before_id
        ),
        &moderator,
        "",
        200,
    )
    .await;
    assert!(
        !second.rows.is_empty()
            && second
                .rows
                .iter()
                .all(|r| first.rows.iter().all(|f| f.id != r.id)),
        "the next page"
    );
    let kinds: Vec<&str> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|r| r.event_type.as_str())
        .collect();
    assert_eq!(
        &kinds[..3],
        ["admin_teleport", "admin_remove_item", "admin_grant_item"]
    );
    refused(
        &env,
        "GET",
        "/v1/admin/logs?from=yesterday",
        Some(&moderator),
        "",
        400,
        Reason::BadFields,
    )
    .await;
    let _: Vec<ListingView> = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{hero}/market"),
        &moderator,
        "",
        200,
    )
    .await;
    let _: Vec<MailView> = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{hero}/mail"),
        &moderator,
        "",
        200,
    )
    .await;

    let made: OperatorView = ok(&env, "POST", "/v1/admin/operators", &admin, r#"{"name":"mod-new","role":"moderator","password":"long enough pass","reason":"new hire"}"#, 201).await;
    let all: Vec<OperatorRow> = ok(&env, "GET", "/v1/admin/operators", &admin, "", 200).await;
    assert_eq!(all.len(), 4);
    let (s, _) = call(
        &env,
        "POST",
        &format!("/v1/admin/operators/{}/disable", made.id),
        Some(&admin),
        r#"{"reason":"left"}"#,
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = call(&env, "DELETE", "/v1/admin/sessions", Some(&gm), "").await;
    assert_eq!(s, 204);
    refused(
        &env,
        "GET",
        "/v1/admin/players?q=h",
        Some(&gm),
        "",
        401,
        Reason::Unauthorized,
    )
    .await;
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_from_the_binary_under_a_strict_content_policy() {
    let env = Env::new().await;
    let base = env.gateway.base_url();
    for (path, kind) in [
        ("/admin", "text/html"),
        ("/admin/console.js", "text/javascript"),
        ("/admin/console.css", "text/css"),
    ] {
        let r = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let header = |h: &str| r.headers()[h].to_str().unwrap().to_string();
        assert!(header("content-type").starts_with(kind), "{path}");
        assert!(
            header("content-security-policy").contains("script-src 'self'"),
            "{path}"
        );
        let body = r.text().await.unwrap();
        if path == "/admin" {
            assert!(body.contains(r#"<script src="/admin/console.js" defer></script>"#));
            assert_eq!(body.matches("<script").count(), 1, "no inline script");
        }
    }
    env.stop().await;
}

/// Reads the socket until it closes: the close code.
async fn until_closed(ws: &mut realmkeep_protocol::client::PlainSocket) -> Option<u16> {
    loop {
        match ws.next().await.expect("socket readable") {
            Incoming::Frame(_) => {}
            Incoming::Closed(code) => return code,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_and_a_kick_close_the_players_socket_live_and_a_broadcast_reaches_it() {
    let env = Env::new().await;
    let moderator = login(&env, "mod-max", AdminRole::Moderator).await;
    let gm = login(&env, "gm-gil", AdminRole::GameMaster).await;
    let mut cheater = env.joined("cheater", "aldor").await;
    let mut rude = env.joined("rude", "aldor").await;
    let node: NodeState = ok(&env, "GET", "/v1/admin/status", &moderator, "", 200).await;
    assert_eq!((node.node.as_str(), node.players), ("gw1", 2));
    assert!(node.postgres_up && node.redis_up && node.zones.len() == 2);
    assert!(node
        .zones
        .iter()
        .all(|z| z.ticks > 0 && z.tick_p99_ms >= z.tick_p50_ms));
    assert_eq!(node.zones.iter().map(|z| z.players).sum::<u64>(), 2);

    let (s, b) = call(
        &env,
        "POST",
        "/v1/admin/broadcasts",
        Some(&moderator),
        r#"{"text":"restart at noon"}"#,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let a = next_msg(&mut rude.ws, |m| match m {
        ServerMsg::Announcement(a) => Some(a.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        a,
        Announcement::Text {
            text: "restart at noon".into()
        }
    );
    refused(
        &env,
        "POST",
        "/v1/admin/broadcasts",
        Some(&moderator),
        r#"{"text":"   "}"#,
        400,
        Reason::BadText,
    )
    .await;

    let page: CharacterPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{}", cheater.id),
        &moderator,
        "",
        200,
    )
    .await;
    assert!(
        page.holder.in_world
            && page.holder.node.as_deref() == Some("gw1")
            && page.holder.zone == Some(page.position.zone)
    );
    assert!(page.holder.claim_epoch >= 1 && page.holder.presence_node.as_deref() == Some("gw1"));
    let why = refused(
        &env,
        "POST",
        &format!("/v1/admin/characters/{}/teleport", cheater.id),
        Some(&gm),
        r#"{"zone":2,"x":5,"y":5,"reason":"unstuck"}"#,
        409,
        Reason::CharacterOnline,
    )
    .await;
    assert!(!why.is_empty());

    let account = page.account_id;
    let banned: BanIssued = ok(
        &env,
        "POST",
        &format!("/v1/admin/accounts/{account}/ban"),
        &moderator,
        r#"{"hours":24,"reason":"speed hacking"}"#,
        200,
    )
    .await;
    let at = Instant::now();
    assert_eq!(banned.kicked.as_ref().map(|k| k.characters), Some(1));
    assert_eq!(
        until_closed(&mut cheater.ws).await,
        Some(CloseCode::Banned.code())
    );
    assert!(
        at.elapsed() < Duration::from_secs(1),
        "closed {:?} after the ban",
        at.elapsed()
    );
    let e = env.http.login("cheater", PASSWORD).await.unwrap_err();
    assert_eq!(e.reason(), Some(Reason::Banned));
    let page: CharacterPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{}", cheater.id),
        &moderator,
        "",
        200,
    )
    .await;
    assert!(page.sessions.banned);
    let u: Unbanned = ok(
        &env,
        "POST",
        &format!("/v1/admin/accounts/{account}/unban"),
        &moderator,
        r#"{"reason":"appeal granted"}"#,
        200,
    )
    .await;
    assert_eq!(u.revoked, 1);
    env.http
        .login("cheater", PASSWORD)
        .await
        .expect("unbanned: logs in");
    refused(
        &env,
        "POST",
        &format!("/v1/admin/accounts/{account}/unban"),
        Some(&moderator),
        r#"{"reason":"again"}"#,
        404,
        Reason::NotFound,
    )
    .await;

    let rude_account: CharacterPage = ok(
        &env,
        "GET",
        &format!("/v1/admin/characters/{}", rude.id),
        &moderator,
        "",
        200,
    )
    .await;
    let k: KickResult = ok(
        &env,
        "POST",
        &format!("/v1/admin/accounts/{}/kick", rude_account.account_id),
        &moderator,
        r#"{"reason":"language"}"#,
        200,
    )
    .await;
    assert_eq!(k.characters, 1);
    assert!(until_closed(&mut rude.ws).await.is_some());
    let logs: LogPage = ok(
        &env,
        "GET",
        "/v1/admin/logs?event_type=admin_kick",
        &moderator,
        "",
        200,
    )
    .await;
    assert_eq!(logs.rows[0].details["operator"], "mod-max");
    assert_eq!(
        logs.rows[0].details["action"]["account_id"],
        rude_account.account_id
    );
    env.stop().await;
}
