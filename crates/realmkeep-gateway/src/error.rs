//! The gateway's errors: starting it (`GatewayError`), and an HTTP answer that refuses
//! (`ApiFailure`, a status and a `realmkeep_protocol::http::ApiError` body).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use realmkeep_protocol::http::ApiError;
use realmkeep_protocol::Reason;
use realmkeep_store::StoreError;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("TLS set-up: {0}")]
    Tls(String),
}

/// An HTTP refusal.
#[derive(Debug)]
pub struct ApiFailure {
    pub status: StatusCode,
    pub body: ApiError,
}

impl ApiFailure {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            status: status_of(reason),
            body: ApiError {
                error: reason,
                message: message.into(),
                retry_after_ms: None,
            },
        }
    }

    pub fn retry_after(mut self, d: Duration) -> Self {
        self.body.retry_after_ms = Some(d.as_millis().max(1) as u64);
        self
    }

    pub fn try_again() -> Self {
        Self::new(
            Reason::TryAgain,
            "the game is busy or unavailable; nothing changed, try again",
        )
        .retry_after(Duration::from_secs(1))
    }

    pub fn unauthorized() -> Self {
        Self::new(Reason::Unauthorized, "a valid session token is required")
    }
}

/// The HTTP status of each reason.
pub fn status_of(reason: Reason) -> StatusCode {
    use Reason::*;
    match reason {
        BadJson | UnknownKind | BadFields | BadVersion | BinaryFrame | RequestIdReused
        | BadName | WeakPassword | BadPosition | BadText | Invalid | GameRule => {
            StatusCode::BAD_REQUEST
        }
        NameTaken | TooManyCharacters | CharacterOnline | AlreadyJoined => StatusCode::CONFLICT,
        BadCredentials | Unauthorized | BadTicket => StatusCode::UNAUTHORIZED,
        Banned | NotAllowed | Blocked => StatusCode::FORBIDDEN,
        NoSuchCharacter | NotFound | NoSuchTarget => StatusCode::NOT_FOUND,
        RateLimited | LoginBackoff => StatusCode::TOO_MANY_REQUESTS,
        TryAgain | ShuttingDown | ZoneElsewhere => StatusCode::SERVICE_UNAVAILABLE,
        NotJoined | OutOfRange | Dead | OnCooldown | NotEnoughMana | Reserved => {
            StatusCode::CONFLICT
        }
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body.clone())).into_response();
        if let Some(ms) = self.body.retry_after_ms {
            let secs = ms.div_ceil(1_000).to_string();
            if let Ok(v) = secs.parse() {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
        }
        r
    }
}

/// A store error as an HTTP refusal: refusals say why, outages say "try again", the rest is
/// logged and answered `internal` without its detail.
impl From<StoreError> for ApiFailure {
    fn from(e: StoreError) -> Self {
        use realmkeep_domain::records::Refusal as R;
        match e {
            StoreError::Refused(r) => match r {
                R::NameTaken => ApiFailure::new(Reason::NameTaken, r.to_string()),
                R::BadCredentials => ApiFailure::new(Reason::BadCredentials, r.to_string()),
                R::Banned => ApiFailure::new(Reason::Banned, r.to_string()),
                R::NotFound(_) => ApiFailure::new(Reason::NoSuchCharacter, r.to_string()),
                R::LimitReached(_) => ApiFailure::new(Reason::TooManyCharacters, r.to_string()),
                R::ClaimHeld => ApiFailure::new(Reason::CharacterOnline, r.to_string()),
                R::Invalid(_) => ApiFailure::new(Reason::Invalid, r.to_string()),
                other => ApiFailure::new(Reason::GameRule, other.to_string()),
            },
            StoreError::Unavailable(_) | StoreError::Busy(_) => ApiFailure::try_again(),
            e => {
                tracing::error!(error = %e, "store error answering an HTTP request");
                ApiFailure::new(Reason::Internal, "the request failed; nothing changed")
            }
        }
    }
}
