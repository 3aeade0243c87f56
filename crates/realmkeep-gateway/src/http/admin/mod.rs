//! The admin API under `/v1/admin/`: operators log in on their own endpoint, then each request
//! carries `Authorization: Bearer <operator token>`; the operator is read from PostgreSQL at each
//! request (a disabled account or a changed role counts at once) and its role decides what it may
//! do (`AdminPower`: the store checks it again). Every change carries a reason and is logged in
//! `game_logs` with the operator. Documented by `GET /v1/admin/openapi.json`, built from the
//! handlers and `realmkeep_protocol::admin` by utoipa.
//!
//! One module per resource: `sessions.rs` (login, logout), `players.rs` (search, character page,
//! market and mail), `logs.rs` (the game-log browser), `changes.rs` (gold, items, teleport; `live.rs`: gold and items of a character in the world,
//! through the zone that holds it),
//! `world.rs` (kick, ban, unban, broadcast: the server crate's `admin`, as the CLI sends them),
//! `operators.rs` (operators' accounts), `status.rs` (the node's live state); `console.rs` serves
//! the console page at `/admin` (`console/`: HTML, plain JavaScript and CSS, embedded).

mod changes;
mod console;
mod live;
mod logs;
mod operators;
mod players;
mod sessions;
mod status;
mod world;

use super::auth::bearer;
use super::AppState;
use crate::error::ApiFailure;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use realmkeep_domain::{AdminPower, CharacterId};
use realmkeep_protocol::admin as wire;
use realmkeep_protocol::Reason;
use realmkeep_store::admin::AdminNote;
use realmkeep_store::admin_accounts::Operator;
use realmkeep_store::StoreError;
use utoipa::OpenApi;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(console::page))
        .route("/admin/console.js", get(console::script))
        .route("/admin/console.css", get(console::style))
        .route("/v1/admin/openapi.json", get(openapi))
        .route(
            "/v1/admin/sessions",
            post(sessions::login).delete(sessions::logout),
        )
        .route("/v1/admin/players", get(players::search))
        .route("/v1/admin/characters/{id}", get(players::page))
        .route("/v1/admin/characters/{id}/market", get(players::market))
        .route("/v1/admin/characters/{id}/mail", get(players::mail))
        .route("/v1/admin/characters/{id}/gold", post(changes::gold))
        .route("/v1/admin/characters/{id}/items", post(changes::grant))
        .route(
            "/v1/admin/characters/{id}/items/{item}/remove",
            post(changes::remove),
        )
        .route(
            "/v1/admin/characters/{id}/teleport",
            post(changes::teleport),
        )
        .route("/v1/admin/logs", get(logs::browse))
        .route("/v1/admin/status", get(status::status))
        .route("/v1/admin/accounts/{id}/kick", post(world::kick))
        .route("/v1/admin/accounts/{id}/ban", post(world::ban))
        .route("/v1/admin/accounts/{id}/unban", post(world::unban))
        .route("/v1/admin/broadcasts", post(world::broadcast))
        .route(
            "/v1/admin/operators",
            get(operators::list).post(operators::create),
        )
        .route("/v1/admin/operators/{id}/disable", post(operators::disable))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Realmkeep admin API",
        description = "Operators' API of a Realmkeep node. Log in with POST /v1/admin/sessions, \
            then send Authorization: Bearer <token>. Roles: moderator (read, kick, ban, \
            broadcast), game_master (+ gold, items, teleport), administrator (+ operators)."
    ),
    paths(
        sessions::login, sessions::logout, players::search, players::page, players::market,
        players::mail, logs::browse, changes::gold, changes::grant, changes::remove,
        changes::teleport, world::kick, world::ban, world::unban, world::broadcast,
        operators::list, operators::create, operators::disable, status::status
    ),
    components(schemas(wire::AdminError)),
    modifiers(&Bearer)
)]
pub(crate) struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /v1/admin/openapi.json`: this API's OpenAPI document (no session needed).
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// A store error as the admin API answers it: a role too low is 403, a missing thing 404.
pub(crate) fn failure(e: StoreError) -> ApiFailure {
    use realmkeep_domain::records::Refusal as R;
    match e {
        StoreError::Refused(R::NotAllowed(why)) => ApiFailure::new(Reason::NotAllowed, why),
        StoreError::Refused(R::NotFound(what)) => {
            ApiFailure::new(Reason::NotFound, format!("{what} not found"))
        }
        StoreError::Refused(R::ClaimHeld) => ApiFailure::new(
            Reason::CharacterOnline,
            "the character is in the world: kick it first, or wait for its logout",
        ),
        e => e.into(),
    }
}

/// The operator of the request's session.
pub(crate) struct Op {
    pub operator: Operator,
    pub token: String,
}

impl Op {
    /// 403 unless the operator's role has `power`.
    pub fn require(&self, power: AdminPower) -> Result<(), ApiFailure> {
        self.operator.require(power).map_err(failure)
    }

    /// The operator with a reason (400 if empty or too long).
    pub fn note(&self, reason: &str) -> Result<AdminNote, ApiFailure> {
        AdminNote::new(self.operator.clone(), reason).map_err(failure)
    }
}

impl FromRequestParts<AppState> for Op {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiFailure> {
        let unauthorized = || {
            ApiFailure::new(
                Reason::Unauthorized,
                "a live operator's session is required",
            )
        };
        let token = bearer(parts).ok_or_else(unauthorized)?;
        let session = app
            .cache()
            .admin_sessions()
            .validate(token)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "operator's session not checked");
                ApiFailure::try_again()
            })?
            .ok_or_else(unauthorized)?;
        let operator = app
            .store()
            .operator(session.admin)
            .await?
            .ok_or_else(unauthorized)?;
        Ok(Op {
            operator,
            token: token.to_string(),
        })
    }
}

/// Query parameters whose every rejection is a 400 `bad_fields`.
pub(crate) struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiFailure> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(ApiFailure::new(Reason::BadFields, e.body_text()))
            }
            Err(e) => Err(ApiFailure::new(Reason::BadFields, e.body_text())),
        }
    }
}

/// A numeric id in the path (400 otherwise).
pub(crate) fn id(Path(raw): Path<String>) -> Result<i64, ApiFailure> {
    raw.parse()
        .map_err(|_| ApiFailure::new(Reason::BadFields, "an id is a number"))
}

/// A character that exists (404 otherwise).
pub(crate) async fn character(app: &AppState, id: i64) -> Result<CharacterId, ApiFailure> {
    let c = CharacterId(id);
    app.store().claim_info(c).await.map_err(failure)?;
    Ok(c)
}

/// RFC 3339 of a time.
pub(crate) fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
