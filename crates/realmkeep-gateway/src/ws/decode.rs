//! From a text frame to a command the gateway may act on: JSON, the envelope, the command's
//! fields, then the command's own bounds (finite coordinates within the map's limit, chat text
//! without control or bidirectional-override characters). Pure, no I/O: `cargo xtask fuzz`
//! feeds it arbitrary bytes and hostile JSON.

use realmkeep_domain::limits::{
    GUILD_NAME_CHARS_MAX, MAIL_ATTACHMENTS_MAX, MAIL_BODY_CHARS_MAX, MAIL_SUBJECT_CHARS_MAX,
    MARKET_PAGE_ROWS_MAX, TRADE_ITEMS_PER_SIDE_MAX,
};
use realmkeep_protocol::limits::{COORDINATE_ABS_MAX, FRAME_BYTES_MAX, SAY_CHARS_MAX};
use realmkeep_protocol::ws::{ClientFrame, Command};
use realmkeep_protocol::{Reason, PROTOCOL_VERSION};

/// Longest ticket accepted in a `join` (the cache checks its exact form).
const TICKET_CHARS_MAX: usize = realmkeep_cache::TICKET_CHARS_MAX;

/// The command kinds of protocol v1, as in `type`, with the fields each takes besides `type`.
/// (serde refuses unknown fields of kinds that have fields; this table also covers those that
/// have none, which an internally tagged enum would let through.)
pub const KINDS: &[(&str, &[&str])] = &[
    ("join", &["ticket"]),
    ("move_to", &["x", "y"]),
    ("move", &["dx", "dy"]),
    ("stop", &[]),
    ("say", &["text"]),
    ("logout", &[]),
    ("attack", &["target"]),
    ("stop_attack", &[]),
    ("use_skill", &["skill", "target"]),
    ("pick_up", &["loot"]),
    ("chat", &["channel", "text"]),
    ("whisper", &["to", "text"]),
    ("accept_quest", &["quest"]),
    ("complete_quest", &["quest"]),
    ("abandon_quest", &["quest"]),
    ("trade", &["with", "give", "want"]),
    ("trade_cancel", &["with"]),
    ("list_item", &["item", "price", "hours"]),
    ("buy_listing", &["listing"]),
    ("cancel_listing", &["listing"]),
    (
        "search_market",
        &["item_def", "min_price", "max_price", "after", "rows"],
    ),
    ("send_mail", &["to", "subject", "body", "gold", "items"]),
    ("list_mail", &[]),
    ("claim_mail", &["mail"]),
    ("read_mail", &["mail"]),
    ("delete_mail", &["mail"]),
    ("guild_create", &["name"]),
    ("guild_invite", &["who"]),
    ("guild_accept", &["guild"]),
    ("guild_decline", &["guild"]),
    ("guild_leave", &[]),
    ("guild_kick", &["who"]),
    ("guild_set_rank", &["who", "rank"]),
    ("guild_hand_over", &["to"]),
    ("guild_disband", &[]),
    ("guild_war_declare", &["on", "hours"]),
    ("guild_war_end", &["with"]),
    ("queue_join", &["queue"]),
    ("queue_leave", &["queue"]),
    ("friend", &["other", "op"]),
    ("change_zone", &["to"]),
    ("move_item", &["item", "slot"]),
    ("split_stack", &["item", "quantity", "slot"]),
    ("merge_stacks", &["from", "onto"]),
    ("equip", &["item"]),
    ("unequip", &["slot", "to"]),
    ("destroy_item", &["item"]),
    ("leaderboard", &["board", "top"]),
    ("item_info", &["item_def"]),
    ("skill_info", &["skill"]),
    ("guild_info", &[]),
    ("friend_list", &[]),
];

/// The longest war one may declare, in hours (the cache's `GUILD_WAR_DURATION_MAX`).
pub const GUILD_WAR_HOURS_MAX: u32 =
    (realmkeep_cache::GUILD_WAR_DURATION_MAX.as_secs() / 3_600) as u32;

/// Rows of a leaderboard one request reads at the most.
pub const LEADERBOARD_TOP_MAX: u32 = 100;

/// A frame that cannot be acted on: its request id if one could be read (else 0), and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub id: u64,
    pub reason: Reason,
    pub detail: String,
}

fn bad(id: u64, reason: Reason, detail: impl Into<String>) -> Bad {
    Bad {
        id,
        reason,
        detail: detail.into(),
    }
}

/// Decodes and checks one text frame.
pub fn decode(text: &str) -> Result<ClientFrame, Bad> {
    if text.len() > FRAME_BYTES_MAX {
        return Err(bad(0, Reason::BadJson, "frame too big"));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(0, Reason::BadJson, e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(bad(0, Reason::BadJson, "a JSON object expected"));
    };
    let id = obj.get("id").and_then(|v| v.as_u64()).unwrap_or(0);
    match obj.get("v").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(v) => {
            return Err(bad(
                id,
                Reason::BadVersion,
                format!("version {v} is not spoken here; 1 is"),
            ))
        }
        None => {
            return Err(bad(
                id,
                Reason::BadFields,
                "`v` (the protocol version) is missing",
            ))
        }
    }
    let cmd = obj.get("cmd").and_then(|c| c.as_object());
    let kind = cmd.and_then(|c| c.get("type")).and_then(|t| t.as_str());
    match kind {
        Some(k) if KINDS.iter().any(|(name, _)| *name == k) => {
            let fields = KINDS
                .iter()
                .find(|(name, _)| *name == k)
                .map_or(&[][..], |(_, f)| *f);
            let extra = cmd
                .into_iter()
                .flat_map(|c| c.keys())
                .find(|key| key.as_str() != "type" && !fields.contains(&key.as_str()));
            if let Some(extra) = extra {
                let shown: String = extra.chars().take(32).collect();
                return Err(bad(
                    id,
                    Reason::BadFields,
                    format!("unknown field `{shown}`"),
                ));
            }
        }
        Some(k) => {
            let shown: String = k.chars().take(32).collect();
            return Err(bad(
                id,
                Reason::UnknownKind,
                format!("unknown command `{shown}`"),
            ));
        }
        None => return Err(bad(id, Reason::BadFields, "`cmd.type` is missing")),
    }
    let frame: ClientFrame =
        serde_json::from_value(value).map_err(|e| bad(id, Reason::BadFields, e.to_string()))?;
    check(&frame.cmd).map_err(|(reason, detail)| bad(frame.id, reason, detail))?;
    Ok(frame)
}

/// The command's own bounds.
pub fn check(cmd: &Command) -> Result<(), (Reason, String)> {
    let coordinate = |v: f32| v.is_finite() && v.abs() <= COORDINATE_ABS_MAX;
    let fields = |m: String| Err((Reason::BadFields, m));
    match cmd {
        Command::Join { ticket } if ticket.is_empty() || ticket.len() > TICKET_CHARS_MAX => {
            Err((Reason::BadTicket, "not a ticket".into()))
        }
        Command::MoveTo { x, y } if !coordinate(*x) || !coordinate(*y) => Err((
            Reason::BadPosition,
            "coordinates must be finite and on the map".into(),
        )),
        Command::Move { dx, dy }
            if !dx.is_finite() || !dy.is_finite() || (*dx == 0.0 && *dy == 0.0) =>
        {
            Err((
                Reason::BadPosition,
                "a direction must be finite and not zero".into(),
            ))
        }
        Command::Say { text } | Command::Chat { text, .. } | Command::Whisper { text, .. } => {
            check_text(text)
        }
        Command::Trade { give, want, .. }
            if [give, want]
                .iter()
                .any(|side| side.items.len() > TRADE_ITEMS_PER_SIDE_MAX || side.gold < 0) =>
        {
            fields(format!(
                "a side holds 0 to {TRADE_ITEMS_PER_SIDE_MAX} items and gold ≥ 0"
            ))
        }
        Command::SendMail {
            subject,
            body,
            gold,
            items,
            ..
        } => {
            bounded_text("subject", subject, MAIL_SUBJECT_CHARS_MAX, false)?;
            bounded_text("body", body, MAIL_BODY_CHARS_MAX, true)?;
            if *gold < 0 || items.len() > MAIL_ATTACHMENTS_MAX {
                return fields(format!("gold ≥ 0 and at most {MAIL_ATTACHMENTS_MAX} items"));
            }
            Ok(())
        }
        Command::SearchMarket { rows, .. } if !(1..=MARKET_PAGE_ROWS_MAX).contains(rows) => {
            fields(format!("rows: 1 to {MARKET_PAGE_ROWS_MAX}"))
        }
        Command::Leaderboard { top, .. } if !(1..=LEADERBOARD_TOP_MAX).contains(top) => {
            fields(format!("top: 1 to {LEADERBOARD_TOP_MAX}"))
        }
        Command::GuildWarDeclare { hours, .. } if !(1..=GUILD_WAR_HOURS_MAX).contains(hours) => {
            fields(format!("hours: 1 to {GUILD_WAR_HOURS_MAX}"))
        }
        Command::GuildCreate { name } => bounded_text("name", name, GUILD_NAME_CHARS_MAX, false),
        // Ids, prices and ranks are checked where they are used (the zone, the store).
        _ => Ok(()),
    }
}

/// A text field: at most `max` characters, no control characters (but line breaks where
/// `lines`) and no bidirectional controls. May be empty.
fn bounded_text(what: &str, text: &str, max: usize, lines: bool) -> Result<(), (Reason, String)> {
    if text.chars().count() > max {
        return Err((Reason::BadText, format!("{what}: at most {max} characters")));
    }
    let bad = |c: char| (c.is_control() && !(lines && c == '\n')) || is_bidi_control(c);
    if let Some(c) = text.chars().find(|c| bad(*c)) {
        return Err((
            Reason::BadText,
            format!("{what}: character U+{:04X} is not allowed", c as u32),
        ));
    }
    Ok(())
}

/// A chat line: 1 to `SAY_CHARS_MAX` characters once trimmed, no control characters, and no
/// bidirectional overrides or isolates (which make a line read differently than it is).
pub fn check_text(text: &str) -> Result<(), (Reason, String)> {
    let t = text.trim();
    let n = t.chars().count();
    if n == 0 || n > SAY_CHARS_MAX {
        return Err((Reason::BadText, format!("1 to {SAY_CHARS_MAX} characters")));
    }
    if let Some(c) = t.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        return Err((
            Reason::BadText,
            format!("character U+{:04X} is not allowed in chat", c as u32),
        ));
    }
    Ok(())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Reason {
        decode(text).unwrap_err().reason
    }

    #[test]
    fn each_kind_of_bad_frame_has_its_reason() {
        assert_eq!(reason("not json"), Reason::BadJson);
        assert_eq!(reason("[1,2]"), Reason::BadJson);
        assert_eq!(
            reason(r#"{"v":2,"id":1,"cmd":{"type":"stop"}}"#),
            Reason::BadVersion
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"fly"}}"#),
            Reason::UnknownKind
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"move_to","x":1}}"#),
            Reason::BadFields
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"move_to","x":"a","y":1}}"#),
            Reason::BadFields
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"stop","extra":1}}"#),
            Reason::BadFields
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"stop"},"character":5}"#),
            Reason::BadFields
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"move_to","x":1e39,"y":1}}"#),
            Reason::BadPosition
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"move_to","x":1e6,"y":1}}"#),
            Reason::BadPosition
        );
        assert_eq!(
            reason(r#"{"v":1,"id":1,"cmd":{"type":"say","text":"  "}}"#),
            Reason::BadText
        );
        assert_eq!(
            reason("{\"v\":1,\"id\":1,\"cmd\":{\"type\":\"say\",\"text\":\"a\\u202eb\"}}"),
            Reason::BadText
        );
        assert_eq!(
            reason("{\"v\":1,\"id\":1,\"cmd\":{\"type\":\"say\",\"text\":\"a\\u0007b\"}}"),
            Reason::BadText
        );
        let long = format!(
            r#"{{"v":1,"id":1,"cmd":{{"type":"say","text":"{}"}}}}"#,
            "a".repeat(SAY_CHARS_MAX + 1)
        );
        assert_eq!(reason(&long), Reason::BadText);
    }

    #[test]
    fn the_request_id_is_echoed_when_it_can_be_read() {
        assert_eq!(
            decode(r#"{"v":1,"id":77,"cmd":{"type":"fly"}}"#)
                .unwrap_err()
                .id,
            77
        );
        assert_eq!(decode("garbage").unwrap_err().id, 0);
    }

    #[test]
    fn good_frames_decode() {
        let f = decode(r#"{"v":1,"id":3,"cmd":{"type":"move_to","x":10.5,"y":-2}}"#).unwrap();
        assert_eq!((f.id, f.cmd), (3, Command::MoveTo { x: 10.5, y: -2.0 }));
        let f = decode(r#"{"v":1,"id":4,"cmd":{"type":"say","text":"héllo ✓"}}"#).unwrap();
        assert_eq!(
            f.cmd,
            Command::Say {
                text: "héllo ✓".into()
            }
        );
    }
}
