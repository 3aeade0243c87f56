//! `GET /v1/admin/logs`: the game-log browser, newest first, filtered by character, event type
//! and time range, a page at a time (keyset paging on `(occurred_at, id)`).

use super::{failure, rfc3339, Op, Query};
use crate::error::ApiFailure;
use crate::http::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use realmkeep_domain::{AdminPower, CharacterId};
use realmkeep_protocol::admin::{LogCursor, LogPage, LogQuery, LogRow};
use realmkeep_protocol::Reason;
use realmkeep_store::admin_reads::LogFilter;

/// Rows of a page when the query does not say.
const LOG_PAGE_ROWS_DEFAULT: i64 = 50;
/// Longest event type asked for (event types are short names).
const EVENT_TYPE_CHARS_MAX: usize = 64;

fn time(what: &str, s: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiFailure> {
    s.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                ApiFailure::new(Reason::BadFields, format!("{what} is not an RFC 3339 time"))
            })
    })
    .transpose()
}

fn filter(q: &LogQuery) -> Result<LogFilter, ApiFailure> {
    if q.event_type
        .as_ref()
        .is_some_and(|e| e.is_empty() || e.chars().count() > EVENT_TYPE_CHARS_MAX)
    {
        return Err(ApiFailure::new(
            Reason::BadFields,
            format!("event_type is 1 to {EVENT_TYPE_CHARS_MAX} characters"),
        ));
    }
    let before = match (time("before_at", q.before_at.as_deref())?, q.before_id) {
        (Some(at), Some(id)) => Some((at, id)),
        (None, None) => None,
        _ => {
            return Err(ApiFailure::new(
                Reason::BadFields,
                "before_at and before_id go together",
            ))
        }
    };
    Ok(LogFilter {
        character: q.character.map(CharacterId),
        event_type: q.event_type.clone(),
        from: time("from", q.from.as_deref())?,
        to: time("to", q.to.as_deref())?,
        before,
        limit: q.limit.unwrap_or(LOG_PAGE_ROWS_DEFAULT),
    })
}

#[utoipa::path(get, path = "/v1/admin/logs", tag = "logs", params(LogQuery),
    security(("operator" = [])),
    responses((status = 200, body = LogPage),
        (status = 400, body = realmkeep_protocol::admin::AdminError)))]
pub(crate) async fn browse(
    State(app): State<AppState>,
    op: Op,
    Query(q): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiFailure> {
    op.require(AdminPower::Read)?;
    let page = app
        .store()
        .admin_logs(&filter(&q)?)
        .await
        .map_err(failure)?;
    Ok(Json(LogPage {
        rows: page
            .rows
            .into_iter()
            .map(|r| LogRow {
                id: r.id,
                occurred_at: rfc3339(r.occurred_at),
                event_type: r.event_type,
                actor: r.actor_character_id,
                target: r.target_character_id,
                item: r.item_id,
                item_def: r.item_def_id,
                quantity: r.quantity,
                gold: r.gold,
                zone: r.zone_id,
                details: r.details,
            })
            .collect(),
        next: page.next.map(|(at, id)| LogCursor {
            before_at: rfc3339(at),
            before_id: id,
        }),
    }))
}
