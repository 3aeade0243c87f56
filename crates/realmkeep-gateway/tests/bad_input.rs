//! Every bad thing a client can send gets a clear reason code (or the documented close), changes
//! nothing in PostgreSQL or Redis, and the server keeps serving everyone else.

mod support;

use realmkeep_protocol::client::PlainSocket;
use realmkeep_protocol::limits::{FRAME_BYTES_MAX, SAY_CHARS_MAX};
use realmkeep_protocol::ws::{Answer, ClientFrame, Command};
use realmkeep_protocol::{CloseCode, Reason};
use support::*;

fn refused(a: &Answer) -> Reason {
    match a {
        Answer::Refused { reason, .. } => *reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Sends raw text with request id `id` in it and returns the refusal's reason.
async fn raw(ws: &mut PlainSocket, id: u64, text: &str) -> Reason {
    ws.send_text(text).await.unwrap();
    refused(&ws.answer(id).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_frames_are_refused_with_their_reason_and_change_nothing() {
    let env = Env::new().await;
    let (ta, a) = env.player("alice").await;
    let (tb, b) = env.player("bobby").await;
    let (mut ws, welcome) = env.join(&ta, a).await;
    let (mut other, _) = env.join(&tb, b).await;
    // Let the joins' own writes (presence, first saves) settle before the fingerprint.
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    let before = fingerprint(&env).await;

    // Not JSON, not an object, unknown kind, wrong and missing fields, unknown fields.
    assert_eq!(raw(&mut ws, 0, "{not json").await, Reason::BadJson);
    assert_eq!(raw(&mut ws, 0, "[1,2,3]").await, Reason::BadJson);
    assert_eq!(
        raw(
            &mut ws,
            0,
            r#"{"v":1,"id":1,"cmd":{"type":"move_to","x":NaN,"y":1}}"#
        )
        .await,
        Reason::BadJson
    );
    assert_eq!(
        raw(
            &mut ws,
            2,
            r#"{"v":1,"id":2,"cmd":{"type":"teleport","x":1,"y":1}}"#
        )
        .await,
        Reason::UnknownKind
    );
    assert_eq!(
        raw(
            &mut ws,
            3,
            r#"{"v":1,"id":3,"cmd":{"type":"move_to","x":"far","y":1}}"#
        )
        .await,
        Reason::BadFields
    );
    assert_eq!(
        raw(
            &mut ws,
            4,
            r#"{"v":1,"id":4,"cmd":{"type":"move_to","x":1}}"#
        )
        .await,
        Reason::BadFields
    );
    assert_eq!(
        raw(&mut ws, 5, r#"{"v":1,"id":5,"cmd":{"type":"say"}}"#).await,
        Reason::BadFields
    );
    assert_eq!(
        raw(&mut ws, 6, r#"{"v":9,"id":6,"cmd":{"type":"stop"}}"#).await,
        Reason::BadVersion
    );
    // Authority a client might claim is not even accepted as a field.
    assert_eq!(
        raw(
            &mut ws,
            7,
            &format!(r#"{{"v":1,"id":7,"character":{b},"cmd":{{"type":"stop"}}}}"#)
        )
        .await,
        Reason::BadFields
    );
    assert_eq!(
        raw(
            &mut ws,
            8,
            r#"{"v":1,"id":8,"cmd":{"type":"move_to","x":1,"y":1,"epoch":99}}"#
        )
        .await,
        Reason::BadFields
    );

    // Positions: infinite, off the map's limit, across the map in one step.
    assert_eq!(
        raw(
            &mut ws,
            9,
            r#"{"v":1,"id":9,"cmd":{"type":"move_to","x":1e39,"y":1}}"#
        )
        .await,
        Reason::BadPosition
    );
    assert_eq!(
        raw(
            &mut ws,
            10,
            r#"{"v":1,"id":10,"cmd":{"type":"move_to","x":-5e6,"y":1}}"#
        )
        .await,
        Reason::BadPosition
    );
    let far = ClientFrame::new(
        11,
        Command::MoveTo {
            x: welcome.x + 500.0,
            y: welcome.y,
        },
    );
    ws.send_frame(&far).await.unwrap();
    assert_eq!(refused(&ws.answer(11).await.unwrap()), Reason::BadPosition);
    assert_eq!(
        raw(
            &mut ws,
            12,
            r#"{"v":1,"id":12,"cmd":{"type":"move","dx":0,"dy":0}}"#
        )
        .await,
        Reason::BadPosition
    );

    // Chat: too long, control characters, bidirectional overrides, empty.
    let long = "x".repeat(SAY_CHARS_MAX + 1);
    for (id, text) in [
        (13, long.as_str()),
        (14, "ring\u{7}bell"),
        (15, "abc\u{202E}fed"),
        (16, "a\u{2066}b"),
        (17, "   "),
    ] {
        ws.send_frame(&ClientFrame::new(id, Command::Say { text: text.into() }))
            .await
            .unwrap();
        assert_eq!(
            refused(&ws.answer(id).await.unwrap()),
            Reason::BadText,
            "{text:?}"
        );
    }

    // A request id reused; a second join.
    ws.send_frame(&ClientFrame::new(17, Command::Stop))
        .await
        .unwrap();
    assert_eq!(
        refused(&ws.answer(17).await.unwrap()),
        Reason::RequestIdReused
    );
    ws.send_frame(&ClientFrame::new(
        18,
        Command::Join {
            ticket: "a".repeat(48),
        },
    ))
    .await
    .unwrap();
    assert_eq!(
        refused(&ws.answer(18).await.unwrap()),
        Reason::AlreadyJoined
    );

    // Everyone else is served meanwhile, and the bad connection too.
    assert_eq!(other.request(Command::Stop).await.unwrap(), Answer::Ok);
    assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        fingerprint(&env).await,
        before,
        "nothing changed in PostgreSQL or Redis"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tickets_and_commands_before_join_are_refused() {
    let env = Env::new().await;
    let (ta, a) = env.player("alice").await;
    let (tb, b) = env.player("bobby").await;
    let before = fingerprint(&env).await;

    let mut ws = PlainSocket::connect(&env.http.ws_url()).await.unwrap();
    // A command before join.
    assert_eq!(
        refused(&ws.request(Command::Stop).await.unwrap()),
        Reason::NotJoined
    );
    // Unknown (or expired: the same to the server) and malformed tickets.
    let unknown = Command::Join {
        ticket: "0".repeat(48),
    };
    assert_eq!(
        refused(&ws.request(unknown).await.unwrap()),
        Reason::BadTicket
    );
    let odd = Command::Join {
        ticket: "0".repeat(47) + "Z",
    };
    assert_eq!(refused(&ws.request(odd).await.unwrap()), Reason::BadTicket);
    // A ticket for another account's character is never issued.
    let e = env.http.ticket(&ta, b).await.unwrap_err();
    assert_eq!(e.reason(), Some(Reason::NoSuchCharacter));
    assert_eq!(
        fingerprint(&env).await,
        before,
        "refusals before join change nothing"
    );

    // A ticket works once.
    let t = env.http.ticket(&ta, a).await.unwrap();
    let mut second = PlainSocket::connect(&env.http.ws_url()).await.unwrap();
    assert_eq!(
        ws.request(Command::Join {
            ticket: t.ticket.clone()
        })
        .await
        .unwrap(),
        Answer::Ok
    );
    assert_eq!(
        refused(
            &second
                .request(Command::Join { ticket: t.ticket })
                .await
                .unwrap()
        ),
        Reason::BadTicket
    );
    // Bob still plays.
    let (mut bob, _) = env.join(&tb, b).await;
    assert_eq!(bob.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_closes_1009_and_a_binary_frame_1003() {
    let env = Env::new().await;
    let (t, c) = env.player("alice").await;
    let (mut ws, _) = env.join(&t, c).await;
    let huge = format!(
        r#"{{"v":1,"id":1,"cmd":{{"type":"say","text":"{}"}}}}"#,
        "x".repeat(FRAME_BYTES_MAX)
    );
    ws.send_text(&huge).await.unwrap();
    assert_eq!(ws.closed().await.unwrap(), Some(CloseCode::TooBig.code()));

    let (mut ws, _) = env.join(&t, c).await;
    ws.send_binary(vec![1, 2, 3]).await.unwrap();
    assert_eq!(
        ws.closed().await.unwrap(),
        Some(CloseCode::Unsupported.code())
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_re_encoded_and_revoked_tokens_are_refused() {
    let env = Env::new().await;
    let (token, c) = env.player("alice").await;
    let before = fingerprint(&env).await;
    let unauthorized = |r: Result<Vec<realmkeep_protocol::http::CharacterRow>, _>| {
        let e: realmkeep_protocol::client::ClientError = r.unwrap_err();
        assert_eq!(e.reason(), Some(Reason::Unauthorized), "{e}");
    };
    // Forged: another account's id under the same signature.
    let forged = token.replacen(".", ".9", 1);
    unauthorized(env.http.characters(&forged).await);
    // Re-encoded: the signature in upper case is the same bytes, another spelling.
    let (payload, sig) = token.rsplit_once('.').unwrap();
    unauthorized(
        env.http
            .characters(&format!("{payload}.{}", sig.to_uppercase()))
            .await,
    );
    // Expired: a v2 token whose expiry passed (signed by nobody we know, refused either way).
    unauthorized(env.http.characters("v2.1.0000000000000001.1.2.00").await);
    unauthorized(env.http.characters("").await);
    assert_eq!(fingerprint(&env).await, before);
    // Revoked: logged out.
    assert_eq!(env.http.characters(&token).await.unwrap()[0].id, c);
    env.http.logout(&token).await.unwrap();
    unauthorized(env.http.characters(&token).await);
    env.stop().await;
}

/// Method, path, token, body, the status and the reason expected.
type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a str, u16, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_http_bodies_are_refused_with_their_reason() {
    let env = Env::new().await;
    let (token, _) = env.player("alice").await;
    let before = fingerprint(&env).await;
    let cases: &[Case] = &[
        ("POST", "/v1/accounts", None, "{", 400, "bad_json"),
        (
            "POST",
            "/v1/accounts",
            None,
            r#"{"name":"x"}"#,
            400,
            "bad_fields",
        ),
        (
            "POST",
            "/v1/accounts",
            None,
            r#"{"name":"bo","email":"b@example.com","password":"long enough pw"}"#,
            400,
            "bad_name",
        ),
        (
            "POST",
            "/v1/accounts",
            None,
            r#"{"name":"bobby","email":"b@example.com","password":"short"}"#,
            400,
            "weak_password",
        ),
        (
            "POST",
            "/v1/accounts",
            None,
            r#"{"name":"bobbybobby","email":"b@example.com","password":"BobbyBobby"}"#,
            400,
            "weak_password",
        ),
        (
            "POST",
            "/v1/accounts",
            None,
            r#"{"name":"alice","email":"z@example.com","password":"long enough pw"}"#,
            409,
            "name_taken",
        ),
        (
            "POST",
            "/v1/sessions",
            None,
            r#"{"name":"alice","password":"wrong password!"}"#,
            401,
            "bad_credentials",
        ),
        (
            "POST",
            "/v1/sessions",
            None,
            r#"{"name":"nobody","password":"wrong password!"}"#,
            401,
            "bad_credentials",
        ),
        (
            "POST",
            "/v1/characters",
            Some(token.as_str()),
            r#"{"name":"z","class":"warrior","kingdom":"aldor"}"#,
            400,
            "bad_name",
        ),
        (
            "POST",
            "/v1/characters",
            Some(token.as_str()),
            r#"{"name":"zorro","class":"dragon","kingdom":"aldor"}"#,
            400,
            "bad_fields",
        ),
        (
            "POST",
            "/v1/characters",
            Some(token.as_str()),
            r#"{"name":"alice","class":"mage","kingdom":"aldor"}"#,
            409,
            "name_taken",
        ),
        (
            "DELETE",
            "/v1/characters/abc",
            Some(token.as_str()),
            "",
            400,
            "bad_fields",
        ),
        (
            "DELETE",
            "/v1/characters/999999",
            Some(token.as_str()),
            "",
            404,
            "no_such_character",
        ),
        (
            "POST",
            "/v1/tickets",
            Some(token.as_str()),
            r#"{"character":"1"}"#,
            400,
            "bad_fields",
        ),
        ("GET", "/v1/nowhere", None, "", 404, "not_found"),
    ];
    for (method, path, tok, body, status, reason) in cases {
        let (s, text) = env.http.raw(method, path, *tok, body).await.unwrap();
        assert_eq!(s, *status, "{method} {path} {body}: {text}");
        assert!(
            text.contains(&format!("\"error\":\"{reason}\"")),
            "{method} {path} {body}: {text}"
        );
    }
    // A login refused for the password counted one failure: that is the only change, and it is
    // a rate-limit-like counter, not game state.
    let after = fingerprint(&env).await;
    assert_eq!(after.0, before.0, "PostgreSQL unchanged");
    env.stop().await;
}
