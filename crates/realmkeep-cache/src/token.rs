//! Signed session tokens: `v2.{account}.{session}.{started_unix_s}.{expires_unix_s}.{nonce}.{hmac_sha256_hex}`.
//! The nonce makes every token distinct, even two renewals within one second.
//! `started` is the login's time, kept across renewals: no token of a session is valid past
//! [`SESSION_ABSOLUTE_LIFETIME`] after it, however often it was renewed.
//!
//! A token proves itself (signature and expiry) without Redis, which is what keeps logins working
//! while Redis is down; Redis adds what a signature cannot: revocation and an idle timeout.

use crate::error::CacheError;
use hmac::{Hmac, KeyInit, Mac};
use realmkeep_domain::AccountId;
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// A token's whole life: short, because while Redis is down a revoked token stays valid until it
/// expires. Clients renew before it ends ([`crate::Sessions::renew`]).
pub const SESSION_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// A session (a login and all its renewals) ends this long after the login.
pub const SESSION_ABSOLUTE_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The shortest secret accepted (bytes).
pub const SESSION_SECRET_BYTES_MIN: usize = 32;
/// Anything longer than this is not one of our tokens, and is refused before any parsing.
pub const SESSION_TOKEN_CHARS_MAX: usize = 160;
const TOKEN_VERSION: &str = "v2";

const _: () = assert!(SESSION_ABSOLUTE_LIFETIME.as_secs() > SESSION_TOKEN_LIFETIME.as_secs());

/// The server's HMAC key. Never printed.
#[derive(Clone)]
pub struct SessionSecret(Arc<[u8]>);

impl SessionSecret {
    pub fn new(bytes: &[u8]) -> Result<Self, CacheError> {
        if bytes.len() < SESSION_SECRET_BYTES_MIN {
            return Err(CacheError::Invalid {
                what: "session secret",
                detail: format!("at least {SESSION_SECRET_BYTES_MIN} bytes expected"),
            });
        }
        Ok(Self(bytes.into()))
    }
}

impl fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSecret(..)")
    }
}

/// One login: the same id across renewals of its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// A session as a live connection knows it (from its ticket): whether it still holds is
/// [`Sessions::session_revoked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldSession {
    pub account: AccountId,
    pub session: SessionId,
    /// When the connection's token was issued (unix seconds).
    pub issued_unix_s: i64,
}

/// What a token says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims {
    pub account: AccountId,
    pub session: SessionId,
    /// The login's time (unix seconds), the same for every renewal.
    pub started_unix_s: i64,
    pub expires_unix_s: i64,
    /// Random per token (eight hex digits in the token).
    pub nonce: u32,
}

impl SessionClaims {
    /// When the session ends, renewed or not.
    pub fn ends_unix_s(&self) -> i64 {
        self.started_unix_s
            .saturating_add(SESSION_ABSOLUTE_LIFETIME.as_secs() as i64)
    }
}

/// A bearer token as handed to the client. Debug shows none of it: a token is never logged.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionToken(String);

impl SessionToken {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// Why a token was refused without asking Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

/// Signs and checks tokens with the server secret.
#[derive(Debug, Clone)]
pub struct TokenSigner {
    secret: SessionSecret,
}

impl TokenSigner {
    pub fn new(secret: SessionSecret) -> Self {
        Self { secret }
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.secret.0).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    pub fn sign(&self, claims: SessionClaims) -> SessionToken {
        let payload = format!(
            "{TOKEN_VERSION}.{}.{}.{}.{}.{:08x}",
            claims.account,
            claims.session,
            claims.started_unix_s,
            claims.expires_unix_s,
            claims.nonce
        );
        let sig = self.mac(&payload).finalize().into_bytes();
        SessionToken(format!("{payload}.{}", hex(&sig)))
    }

    /// Checks shape, signature (in constant time) and expiry against `now_unix_s`.
    pub fn verify(
        &self,
        token: &str,
        now_unix_s: i64,
    ) -> Result<(SessionClaims, SessionToken), TokenError> {
        if token.len() > SESSION_TOKEN_CHARS_MAX {
            return Err(TokenError::Malformed);
        }
        let (payload, sig_hex) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mut parts = payload.split('.');
        let (
            Some(version),
            Some(account),
            Some(session),
            Some(started),
            Some(expires),
            Some(nonce),
            None,
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return Err(TokenError::Malformed);
        };
        if version != TOKEN_VERSION || session.len() != 16 {
            return Err(TokenError::Malformed);
        }
        let claims = SessionClaims {
            account: AccountId(account.parse().map_err(|_| TokenError::Malformed)?),
            session: SessionId(
                u64::from_str_radix(session, 16).map_err(|_| TokenError::Malformed)?,
            ),
            started_unix_s: started.parse().map_err(|_| TokenError::Malformed)?,
            expires_unix_s: expires.parse().map_err(|_| TokenError::Malformed)?,
            nonce: u32::from_str_radix(nonce, 16).map_err(|_| TokenError::Malformed)?,
        };
        let sig = unhex(sig_hex).ok_or(TokenError::Malformed)?;
        self.mac(payload)
            .verify_slice(&sig)
            .map_err(|_| TokenError::BadSignature)?;
        // One spelling per token: the one `sign` makes. A re-cased signature or a number with a
        // leading zero would verify too, and be another key in Redis that no revocation names.
        let canonical = format!(
            "{TOKEN_VERSION}.{}.{}.{}.{}.{:08x}",
            claims.account,
            claims.session,
            claims.started_unix_s,
            claims.expires_unix_s,
            claims.nonce
        );
        if payload != canonical || sig_hex != hex(&sig) {
            return Err(TokenError::Malformed);
        }
        if claims.expires_unix_s <= now_unix_s || claims.ends_unix_s() <= now_unix_s {
            return Err(TokenError::Expired);
        }
        Ok((claims, SessionToken(token.to_string())))
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::new(SessionSecret::new(&[7u8; 32]).unwrap())
    }

    fn claims(expires_unix_s: i64) -> SessionClaims {
        SessionClaims {
            account: AccountId(42),
            session: SessionId(0xdead_beef),
            started_unix_s: expires_unix_s - 60,
            expires_unix_s,
            nonce: 7,
        }
    }

    #[test]
    fn only_the_canonical_spelling_of_a_token_is_accepted() {
        let t = signer().sign(claims(2_000));
        let (payload, sig) = t.as_str().rsplit_once('.').unwrap();
        let recased = format!("{payload}.{}", sig.to_uppercase());
        assert_ne!(recased, t.as_str());
        assert_eq!(
            signer().verify(&recased, 1_000).unwrap_err(),
            TokenError::Malformed
        );
        // A leading zero in a number: the same claims, another spelling, same signature input?
        // No: the payload is signed as written, so it is re-signed here to show that even a
        // validly signed non-canonical spelling is refused.
        let padded_payload = payload.replacen(".42.", ".042.", 1);
        let mac = signer().mac(&padded_payload).finalize().into_bytes();
        let padded = format!("{padded_payload}.{}", hex(&mac));
        assert_eq!(
            signer().verify(&padded, 1_000).unwrap_err(),
            TokenError::Malformed
        );
        assert!(signer().verify(t.as_str(), 1_000).is_ok());
    }

    #[test]
    fn round_trip() {
        let t = signer().sign(claims(2_000));
        let (c, _) = signer().verify(t.as_str(), 1_000).unwrap();
        assert_eq!(c, claims(2_000));
    }

    #[test]
    fn refuses_tampering_expiry_and_garbage() {
        let t = signer().sign(claims(2_000));
        let forged = t.as_str().replacen(".42.", ".43.", 1);
        assert_eq!(
            signer().verify(&forged, 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        assert_eq!(
            signer().verify(t.as_str(), 2_000).unwrap_err(),
            TokenError::Expired
        );
        let other = TokenSigner::new(SessionSecret::new(&[8u8; 32]).unwrap());
        assert_eq!(
            other.verify(t.as_str(), 1_000).unwrap_err(),
            TokenError::BadSignature
        );
        for junk in [
            "",
            "v1",
            "v1.a.b.c.d",
            "v2.1.0000000000000001.5.00",
            &"x".repeat(500),
        ] {
            assert_eq!(
                signer().verify(junk, 1_000).unwrap_err(),
                TokenError::Malformed
            );
        }
    }

    #[test]
    fn short_secret_refused() {
        assert!(SessionSecret::new(b"short").is_err());
        assert_eq!(
            format!("{:?}", SessionSecret::new(&[1; 32]).unwrap()),
            "SessionSecret(..)"
        );
    }

    #[test]
    fn no_token_outlives_its_session() {
        let s = signer();
        let now = 1_000_000_000;
        let old = SessionClaims {
            account: AccountId(1),
            session: SessionId(1),
            started_unix_s: now - SESSION_ABSOLUTE_LIFETIME.as_secs() as i64,
            expires_unix_s: now + 600,
            nonce: 1,
        };
        let t = s.sign(old);
        assert_eq!(s.verify(t.as_str(), now).unwrap_err(), TokenError::Expired);
        let young = SessionClaims {
            started_unix_s: old.started_unix_s + 1,
            ..old
        };
        let t = s.sign(young);
        assert!(s.verify(t.as_str(), now).is_ok());
    }
}
