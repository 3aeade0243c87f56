//! The Redis client is built with TLS (rustls with a crypto provider): a `rediss://` URL parses
//! into a TLS address and connecting starts a TLS handshake, instead of failing with "TLS support
//! is not enabled" or panicking for want of a rustls crypto provider.
//!
//! No certificate and no Redis: a loopback listener reads the client's first byte, which must open
//! a TLS handshake record (the ClientHello), then hangs up.

use redis::ConnectionAddr;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// The content type of a TLS record carrying a handshake message (RFC 8446 §5.1).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// A guard against a hang if the client never writes: far above a loopback round trip.
const EXCHANGE_MAX: Duration = Duration::from_secs(30);

#[test]
fn rediss_url_parses_into_a_verified_tls_address() {
    let client = redis::Client::open("rediss://redis.example.org:6380/0").unwrap();
    match client.get_connection_info().addr() {
        ConnectionAddr::TcpTls {
            host,
            port,
            insecure,
            ..
        } => {
            assert_eq!((host.as_str(), *port), ("redis.example.org", 6380));
            assert!(!insecure, "certificates and host names are verified");
        }
        other => panic!("rediss:// gave a non-TLS address: {other:?}"),
    }
}

#[tokio::test]
async fn rediss_connection_starts_a_tls_handshake() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut first = [0u8; 1];
        socket.read_exact(&mut first).await.unwrap();
        first[0]
        // Dropping the socket ends the handshake: the client's connect fails.
    });
    let client = redis::Client::open(format!("rediss://127.0.0.1:{port}/")).unwrap();
    let connected = tokio::time::timeout(EXCHANGE_MAX, client.get_multiplexed_async_connection())
        .await
        .expect("the client gives up once the server hangs up");
    assert!(
        connected.is_err(),
        "a server without a certificate cannot complete the handshake"
    );
    assert_eq!(server.await.unwrap(), TLS_HANDSHAKE_RECORD);
}
