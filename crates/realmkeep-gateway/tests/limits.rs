//! The gateway's limits, each through real sockets: a flood, many connections from one
//! address, a client that never reads, a silent client, health and readiness, and TLS.

mod support;

use realmkeep_gateway::{GatewayConfig, TlsFiles};
use realmkeep_protocol::client::{Http, PlainSocket, Socket};
use realmkeep_protocol::ws::{Answer, ClientFrame, Command};
use realmkeep_protocol::CloseCode;
use std::sync::Arc;
use std::time::Duration;
use support::*;

fn config() -> GatewayConfig {
    GatewayConfig::new("127.0.0.1:0".parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_answered_rate_limited_then_closed_and_others_are_served() {
    let env = Env::new().await;
    let (ta, a) = env.player("alice").await;
    let (tb, b) = env.player("bobby").await;
    let (mut flood, _) = env.join(&ta, a).await;
    let (mut calm, _) = env.join(&tb, b).await;
    // 10,000 commands as fast as the socket takes them, without waiting for answers.
    let sender = tokio::spawn(async move {
        for id in 2..10_002u64 {
            if flood
                .send_frame(&ClientFrame::new(id, Command::Stop))
                .await
                .is_err()
            {
                break;
            }
        }
        flood
    });
    let mut flood = sender.await.unwrap();
    let mut limited = 0;
    let code = loop {
        match flood.next().await.unwrap() {
            realmkeep_protocol::client::Incoming::Frame(f) => {
                if let realmkeep_protocol::ws::ServerMsg::Answer {
                    result: Answer::RateLimited { .. },
                    ..
                } = f.msg
                {
                    limited += 1;
                }
            }
            realmkeep_protocol::client::Incoming::Closed(c) => break c,
        }
    };
    assert!(limited >= 1, "answered rate_limited before the close");
    assert_eq!(code, Some(CloseCode::Flood.code()));
    assert_eq!(
        calm.request(Command::Stop).await.unwrap(),
        Answer::Ok,
        "others are served"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_from_one_address_are_bounded_and_others_still_connect() {
    let env = Env::with(generous(vec![]), config().with_connections_per_ip(64)).await;
    let url = env.http.ws_url();
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..500 {
        match PlainSocket::connect(&url).await {
            Ok(s) => open.push(s),
            Err(_) => refused += 1,
        }
    }
    assert_eq!(open.len(), 64, "the first 64 connect");
    assert_eq!(refused, 436);
    assert!(env.gateway.open_connections() <= 64);
    drop(open);
    // Slots come back when connections close.
    let (t, c) = env.player_when_free("alice").await;
    let (mut ws, _) = env.join(&t, c).await;
    assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_is_closed_4000_and_others_never_wait() {
    let env = Env::with(generous(vec![]), config().with_outbound(16, Some(4_096))).await;
    let (ta, a) = env.player("alice").await;
    let (tb, b) = env.player("bobby").await;
    let mut alice = joined_with_a_tiny_window(&env, &ta, a).await;
    let (mut bob, _) = env.join(&tb, b).await;
    // Bob talks and walks next to her: every line and step is for her too.
    let started = std::time::Instant::now();
    let mut n = 0u32;
    while env
        .cluster
        .zones()
        .any(|z| z.holds(realmkeep_domain::CharacterId(a)))
        && !alice_closed(&env, a).await
        && started.elapsed() < WAIT
    {
        n += 1;
        let line = format!("line {n} {}", "x".repeat(200));
        let t0 = std::time::Instant::now();
        let answer = bob.request(Command::Say { text: line }).await.unwrap();
        assert!(matches!(answer, Answer::Ok | Answer::RateLimited { .. }));
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "bob never waits for alice"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Now she reads: what was sent, then the close with its code.
    assert_eq!(
        alice.closed().await.unwrap(),
        Some(CloseCode::TooSlow.code())
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_stalled_for_the_send_timeout_closes_4000_before_the_queue_fills() {
    // The queue's full bound: a hundred lines (about 30 KB) fill the socket's buffers (about
    // 15 KB with these sizes) but never the queue (256: the lines and a few views and events),
    // so only the stalled write can close her.
    let env = Env::with(generous(vec![]), config().with_outbound(256, Some(4_096))).await;
    let (ta, a) = env.player("alice").await;
    let (tb, b) = env.player("bobby").await;
    let mut alice = joined_with_a_tiny_window(&env, &ta, a).await;
    let (mut bob, _) = env.join(&tb, b).await;
    let started = std::time::Instant::now();
    let mut n = 0;
    // She is closed while the lines still come, or after them; she reads as soon as she is.
    while !alice_closed(&env, a).await {
        assert!(
            started.elapsed() < WAIT,
            "a stalled write was never given up"
        );
        if n < 100 {
            let text = format!("line {n} {}", "y".repeat(240));
            let answer = bob.request(Command::Say { text }).await.unwrap();
            assert_eq!(answer, Answer::Ok);
            n += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        alice.closed().await.unwrap(),
        Some(CloseCode::TooSlow.code())
    );
    // Bob was never held up by her.
    assert_eq!(bob.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

/// Alice's socket: a tiny receive window (2 KB), joined; the caller then stops reading it.
async fn joined_with_a_tiny_window(
    env: &Env,
    token: &str,
    character: i64,
) -> Socket<tokio::net::TcpStream> {
    let t = env.http.ticket(token, character).await.unwrap();
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(2_048).unwrap();
    let tcp = sock.connect(env.gateway.local_addr()).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(env.http.ws_url(), tcp)
        .await
        .unwrap();
    let mut alice = Socket::from_stream(ws);
    let join = Command::Join { ticket: t.ticket };
    assert_eq!(alice.request(join).await.unwrap(), Answer::Ok);
    alice
}

/// Opens a WebSocket by hand, sends one text frame, stays silent for `quiet`, then reads
/// whatever the server sent until it closes: the raw bytes of its frames.
async fn silent_client(addr: std::net::SocketAddr, text: &str, quiet: Duration) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /v1/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    // The handshake's answer ends with an empty line.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    // One masked text frame (a zero mask leaves the payload as it is).
    let payload = text.as_bytes();
    let mut frame = vec![0x81u8];
    if payload.len() < 126 {
        frame.push(0x80 | payload.len() as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(payload);
    tcp.write_all(&frame).await.unwrap();
    tokio::time::sleep(quiet).await;
    let mut all = Vec::new();
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut all)).await;
    all
}

/// The code of the first close frame in a server's raw frames.
fn close_code(mut bytes: &[u8]) -> Option<u16> {
    while bytes.len() >= 2 {
        let opcode = bytes[0] & 0x0f;
        let (len, head) = match bytes[1] & 0x7f {
            126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(bytes[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let body = bytes.get(head..head + len)?;
        if opcode == 0x8 && len >= 2 {
            return Some(u16::from_be_bytes([body[0], body[1]]));
        }
        bytes = &bytes[head + len..];
    }
    None
}

/// Whether the gateway let go of alice's connection (her character is then disconnected).
async fn alice_closed(env: &Env, a: i64) -> bool {
    let c = realmkeep_domain::CharacterId(a);
    let Some(z) = env.cluster.holding(c) else {
        return true;
    };
    z.inspect(move |zone| zone.player(c).is_some_and(|p| p.disconnected))
        .await
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_client_is_closed_4003_while_a_ponging_one_stays() {
    let cfg = config().with_keepalive(Duration::from_millis(200), Duration::from_millis(700));
    let env = Env::with(generous(vec![]), cfg).await;
    let (ta, a) = env.player("alice").await;
    let (mut ws, _) = env.join(&ta, a).await;
    // The client library answers pings while it reads: reading keeps it alive.
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    }
    // Not a word, not a pong: a raw socket (no WebSocket library to answer pings) that joins
    // and then says nothing.
    let (tb, b) = env.player("bobby").await;
    let t = env.http.ticket(&tb, b).await.unwrap();
    let join =
        serde_json::to_string(&ClientFrame::new(1, Command::Join { ticket: t.ticket })).unwrap();
    let bytes = silent_client(
        env.gateway.local_addr(),
        &join,
        Duration::from_millis(1_500),
    )
    .await;
    let code = close_code(&bytes);
    assert_eq!(code, Some(CloseCode::Idle.code()));
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_readiness_answer() {
    let mut env = Env::new().await;
    let started = std::time::Instant::now();
    let ready = loop {
        let (status, ready) = env.http.readyz().await.unwrap();
        if status == 200 {
            break ready;
        }
        assert!(started.elapsed() < WAIT, "ready in time: {ready:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(ready.ready && ready.postgres && ready.redis && ready.zones_ticking);
    let (status, body) = env.http.raw("GET", "/healthz", None, "").await.unwrap();
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    // Redis stops: not ready, and it says why.
    env.redis.stop();
    let started = std::time::Instant::now();
    loop {
        let (status, r) = env.http.readyz().await.unwrap();
        if status == 503 {
            assert!(!r.redis && !r.ready);
            break;
        }
        assert!(started.elapsed() < WAIT, "readiness follows Redis");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_listener_serves_https_and_wss() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cfg = config().with_tls(TlsFiles {
        cert: dir.join("test-cert.pem"),
        key: dir.join("test-key.pem"),
    });
    let env = Env::with(generous(vec![]), cfg).await;
    assert!(env.gateway.base_url().starts_with("https://"));
    // The plain client cannot speak to it.
    let plain = Http::new(&env.gateway.base_url().replacen("https", "http", 1));
    assert!(plain.readyz().await.is_err());
    // A TLS client that trusts the test certificate: HTTP over TLS, then a WebSocket over TLS.
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_file_iter(dir.join("test-ca.pem")).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let tls = Arc::new(
        rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let connector = tokio_rustls::TlsConnector::from(tls);
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tcp = tokio::net::TcpStream::connect(env.gateway.local_addr())
        .await
        .unwrap();
    let mut stream = connector.connect(name.clone(), tcp).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap_or_default();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok\n"));

    // Register and play over TLS: the token goes in a header, the ticket in the first frame.
    let (token, c) = {
        // The HTTP API over TLS, through the same typed bodies.
        let body = serde_json::json!({"name":"alice","email":"a@example.com","password": PASSWORD})
            .to_string();
        let tcp = tokio::net::TcpStream::connect(env.gateway.local_addr())
            .await
            .unwrap();
        let mut s = connector.connect(name.clone(), tcp).await.unwrap();
        let req = format!("POST /v1/accounts HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        s.write_all(req.as_bytes()).await.unwrap();
        let mut a = String::new();
        s.read_to_string(&mut a).await.unwrap_or_default();
        assert!(a.starts_with("HTTP/1.1 201"), "{a}");
        let s = env.db.store.clone();
        let account = s.account_id_by_name("alice").await.unwrap().unwrap();
        let session = env.cluster.cache().sessions().issue(account).await;
        let id = s
            .create_character(
                account,
                &realmkeep_domain::CharacterName::parse("alice").unwrap(),
                realmkeep_domain::Class::Mage,
                realmkeep_domain::Kingdom::Aldor,
            )
            .await
            .unwrap();
        (session.token.as_str().to_string(), id.0)
    };
    let ticket = {
        let body = serde_json::json!({ "character": c }).to_string();
        let tcp = tokio::net::TcpStream::connect(env.gateway.local_addr())
            .await
            .unwrap();
        let mut s = connector.connect(name.clone(), tcp).await.unwrap();
        let req = format!("POST /v1/tickets HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        s.write_all(req.as_bytes()).await.unwrap();
        let mut a = String::new();
        s.read_to_string(&mut a).await.unwrap_or_default();
        assert!(a.starts_with("HTTP/1.1 200"), "{a}");
        let json = &a[a.find("\r\n\r\n").unwrap() + 4..];
        let issued: realmkeep_protocol::http::TicketIssued = serde_json::from_str(json).unwrap();
        issued.ticket
    };
    let tcp = tokio::net::TcpStream::connect(env.gateway.local_addr())
        .await
        .unwrap();
    let tls_stream = connector.connect(name, tcp).await.unwrap();
    let url = format!("wss://localhost:{}/v1/ws", env.gateway.local_addr().port());
    let (ws, _) = tokio_tungstenite::client_async(url, tls_stream)
        .await
        .unwrap();
    let mut ws = Socket::from_stream(ws);
    assert_eq!(
        ws.request(Command::Join { ticket }).await.unwrap(),
        Answer::Ok
    );
    assert_eq!(ws.request(Command::Stop).await.unwrap(), Answer::Ok);
    env.stop().await;
}

/// The samples of `/metrics`, parsed as Prometheus parses the text format.
async fn scrape(env: &Env) -> prometheus_parse::Scrape {
    let (status, text) = env.http.raw("GET", "/metrics", None, "").await.unwrap();
    assert_eq!(status, 200, "{text}");
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("parses")
}

/// The sum of every sample of `metric` whose labels include `labels` (counters, gauges, and
/// the count of histograms).
fn total(s: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    use prometheus_parse::Value;
    s.samples
        .iter()
        .filter(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(v)))
        .map(|x| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(b) => b.iter().map(|c| c.count).fold(0.0, f64::max),
            Value::Summary(_) => panic!("{metric} is a summary, histograms wanted"),
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_in_the_prometheus_text_format() {
    let mut env = Env::new().await;
    let (token, id) = env.player("alice").await;
    let (mut ws, welcome) = env.join(&token, id).await;
    // A walk (a batch save follows), a critical action (committed before its answer), then a
    // burst past the local bound.
    let walk = Command::MoveTo {
        x: welcome.x + 5.0,
        y: welcome.y,
    };
    assert_eq!(ws.request(walk).await.unwrap(), Answer::Ok);
    assert_eq!(
        ws.request(Command::AcceptQuest { quest: 1 }).await.unwrap(),
        Answer::Ok
    );
    // The walk is answered at once and walked at the ticks: let it walk a few (so there is a
    // position to save) before the burst's stops halt it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in 100..150u64 {
        ws.send_frame(&ClientFrame::new(id, Command::Stop))
            .await
            .unwrap();
    }
    // A batch save (every second here) and a claim renewal (a third of the 3 s lease).
    let started = std::time::Instant::now();
    let s = loop {
        let s = scrape(&env).await;
        if total(&s, "realmkeep_save_batch_seconds", &[]) >= 1.0
            && total(&s, "realmkeep_claims_renewed_total", &[]) >= 1.0
        {
            break s;
        }
        assert!(
            started.elapsed() < WAIT,
            "a save and a renewal are measured"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for zone in ["1", "2"] {
        let ticks = total(&s, "realmkeep_zone_tick_seconds", &[("zone", zone)]);
        assert!(ticks >= 1.0, "zone {zone} ticks are a histogram: {ticks}");
        let counted = total(&s, "realmkeep_zone_ticks_total", &[("zone", zone)]);
        assert!(counted >= 1.0, "and counted: {counted}");
        let cpu = total(&s, "realmkeep_zone_tick_cpu_seconds", &[("zone", zone)]);
        assert!(cpu >= 1.0, "so is their CPU time: {cpu}");
    }
    assert!(total(&s, "realmkeep_zone_players", &[]) >= 1.0);
    // Alice's socket watches: her views are counted (she walked, so some were computed), none
    // in a crowd.
    assert!(total(&s, "realmkeep_zone_views_computed_total", &[]) >= 1.0);
    for counted in [
        "realmkeep_zone_views_skipped_total",
        "realmkeep_zone_views_crowded_total",
    ] {
        assert!(s.samples.iter().any(|x| x.metric == counted), "{counted}");
    }
    assert_eq!(total(&s, "realmkeep_zone_views_crowded_total", &[]), 0.0);
    // The views' pace of each zone, served from the start: 1 (or, on a machine short of CPU
    // while the suite runs, up to the max), the ticks run stretched, the wait it is judged on.
    for zone in ["1", "2"] {
        let stretch = total(&s, "realmkeep_zone_view_stretch", &[("zone", zone)]);
        let max = realmkeep_zone::limits::VIEW_STRETCH_MAX as f64;
        assert!((1.0..=max).contains(&stretch), "zone {zone}: {stretch}");
        for served in [
            "realmkeep_zone_ticks_stretched_total",
            "realmkeep_zone_tick_wait_seconds",
        ] {
            let of_zone = s
                .samples
                .iter()
                .any(|x| x.metric == served && x.labels.get("zone") == Some(zone));
            assert!(of_zone, "{served} of zone {zone}");
        }
    }
    // The node's runtime lag (its probe's mean lateness), which paces the views with the ticks'
    // own wait: served, and a lateness, not a stuck runtime's.
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "realmkeep_node_runtime_lag_seconds"));
    let lag = total(&s, "realmkeep_node_runtime_lag_seconds", &[]);
    assert!((0.0..5.0).contains(&lag), "runtime lag {lag} s");
    // And the latest of its probe's messages, which holds the views' step back.
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "realmkeep_node_runtime_lag_worst_seconds"));
    let worst = total(&s, "realmkeep_node_runtime_lag_worst_seconds", &[]);
    assert!(
        (0.0..5.0).contains(&worst),
        "runtime lag at its worst {worst} s"
    );
    // The node's time to answer what its zones answer: the walk and the quest at least (the
    // histogram is the process's: other tests here add theirs).
    let answered = total(&s, "realmkeep_gateway_answer_seconds", &[]);
    assert!(answered >= 2.0, "answers timed: {answered}");
    assert!(total(&s, "realmkeep_gateway_connections", &[]) >= 1.0);
    // Served before the first drop (a dashboard's rate of it is 0, not absent).
    assert!(s
        .samples
        .iter()
        .any(|x| x.metric == "realmkeep_gateway_lines_dropped_total"));
    assert!(total(&s, "realmkeep_gateway_messages_in_total", &[]) >= 50.0);
    assert!(total(&s, "realmkeep_gateway_messages_out_total", &[]) >= 2.0);
    assert!(total(&s, "realmkeep_gateway_bytes_out_total", &[]) > 100.0);
    // The sockets' flushes are counted (a ping is flushed too, and is no message).
    assert!(total(&s, "realmkeep_gateway_flushes_total", &[]) >= 1.0);
    // By kind: the join's welcome, and the answers to the commands.
    assert!(
        total(
            &s,
            "realmkeep_gateway_messages_out_total",
            &[("kind", "other")]
        ) >= 1.0
    );
    assert!(
        total(
            &s,
            "realmkeep_gateway_bytes_out_total",
            &[("kind", "answer")]
        ) > 0.0
    );
    assert!(total(&s, "realmkeep_rate_limited_total", &[("action", "flood")]) >= 1.0);
    let quest = [("action", "accept_quest"), ("outcome", "ok")];
    assert!(total(&s, "realmkeep_critical_action_seconds", &quest) >= 1.0);
    assert!(total(&s, "realmkeep_critical_actions_total", &[("outcome", "ok")]) >= 1.0);
    assert_eq!(total(&s, "realmkeep_postgres_up", &[]), 1.0);
    assert_eq!(total(&s, "realmkeep_redis_up", &[]), 1.0);
    assert!(total(&s, "realmkeep_postgres_pool_max", &[]) >= 1.0);
    assert!(total(&s, "realmkeep_redis_commands_total", &[]) >= 1.0);
    for q in ["store", "store_held", "cache", "log"] {
        let depth = s
            .samples
            .iter()
            .any(|x| x.metric == "realmkeep_queue_depth" && x.labels.get("queue") == Some(q));
        assert!(depth, "queue depth {q} is reported");
    }
    // The shipped dashboard and alerts name only series the node serves (a close needs a
    // closed socket, which this test has none of).
    let served: std::collections::HashSet<&str> =
        s.samples.iter().map(|x| x.metric.as_str()).collect();
    let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    for file in ["grafana/realmkeep.json", "prometheus/alerts.yml"] {
        let text = std::fs::read_to_string(deploy.join(file)).unwrap();
        for (i, _) in text.match_indices("realmkeep_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let base = ["_bucket", "_count", "_sum"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name);
            if base == "realmkeep_gateway_closes_total" || !name.contains('_') {
                continue;
            }
            assert!(served.contains(base), "{file} uses {name}, not served");
        }
    }
    // Redis goes: the gauge says so at the next scrape.
    env.redis.stop();
    let started = std::time::Instant::now();
    while total(&scrape(&env).await, "realmkeep_redis_up", &[]) != 0.0 {
        assert!(started.elapsed() < WAIT, "the Redis gauge follows Redis");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    env.stop().await;
}
