//! Which dated files a retention keeps: the newest of each of the last `daily` days that have a
//! file, the newest of each of the last `weekly` ISO weeks that have one, and always the newest
//! file of all (so a retention of zero never leaves the repository empty). Pure: the callers list
//! and delete.

use chrono::{DateTime, Datelike, Utc};
use std::collections::BTreeSet;

/// The names to keep among `files` (name, time taken), by daily and weekly buckets.
pub fn keep_daily_weekly(
    files: &[(String, DateTime<Utc>)],
    daily: u32,
    weekly: u32,
) -> BTreeSet<String> {
    let mut newest_first: Vec<&(String, DateTime<Utc>)> = files.iter().collect();
    newest_first.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let mut keep = BTreeSet::new();
    if let Some(f) = newest_first.first() {
        keep.insert(f.0.clone());
    }
    let mut days = BTreeSet::new();
    let mut weeks = BTreeSet::new();
    for (name, at) in newest_first {
        let day = at.date_naive();
        if days.len() < daily as usize && days.insert(day) {
            keep.insert(name.clone());
        }
        let week = (at.iso_week().year(), at.iso_week().week());
        if weeks.len() < weekly as usize && weeks.insert(week) {
            keep.insert(name.clone());
        }
    }
    keep
}

/// The newest `n` names (at least one) among `files`.
pub fn keep_newest(files: &[(String, DateTime<Utc>)], n: u32) -> BTreeSet<String> {
    let mut newest_first: Vec<&(String, DateTime<Utc>)> = files.iter().collect();
    newest_first.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    newest_first
        .into_iter()
        .take((n as usize).max(1))
        .map(|f| f.0.clone())
        .collect()
}

/// The name a backup file gets for its time: sortable, no characters a shell minds.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The time in a name made with [`stamp`], if it holds one after `prefix`.
pub fn parse_stamp(name: &str, prefix: &str) -> Option<DateTime<Utc>> {
    let rest = name.strip_prefix(prefix)?;
    let s = rest.get(..16)?;
    chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        // December 2026: the 7th is a Monday.
        Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap()
    }

    fn files(times: &[(u32, u32)]) -> Vec<(String, DateTime<Utc>)> {
        times
            .iter()
            .map(|&(d, h)| (format!("db-{}.dump", stamp(at(d, h))), at(d, h)))
            .collect()
    }

    #[test]
    fn seven_daily_and_four_weekly_keep_the_newest_of_each_bucket() {
        // One dump a day through December, two on the 31st.
        let mut times: Vec<(String, DateTime<Utc>)> = (1..=31u32)
            .map(|d| {
                let t = at(d, 3);
                (format!("db-{}.dump", stamp(t)), t)
            })
            .collect();
        let late = at(31, 20);
        times.push((format!("db-{}.dump", stamp(late)), late));
        let keep = keep_daily_weekly(&times, 7, 4);
        let kept_days: Vec<u32> = times
            .iter()
            .filter(|f| keep.contains(&f.0))
            .map(|f| f.1.day())
            .collect();
        // Daily: 25..31 (the 31st's later dump only); weekly: the newest of the weeks of the
        // 28th, 21st, 14th and 7th, that is the 31st, 27th, 20th and 13th.
        assert_eq!(kept_days, vec![13, 20, 25, 26, 27, 28, 29, 30, 31]);
        assert!(keep.contains(&format!("db-{}.dump", stamp(late))));
        assert!(!keep.contains(&format!("db-{}.dump", stamp(at(31, 3)))));
    }

    #[test]
    fn a_retention_of_zero_still_keeps_the_newest() {
        let f = files(&[(1, 1), (2, 1)]);
        assert_eq!(keep_daily_weekly(&f, 0, 0).len(), 1);
        assert_eq!(keep_newest(&f, 0).len(), 1);
        assert!(keep_newest(&f, 0).contains(&f[1].0));
        assert!(keep_daily_weekly(&[], 7, 4).is_empty());
    }

    #[test]
    fn stamps_read_back() {
        let t = at(5, 7);
        let name = format!("realmkeep-{}.dump", stamp(t));
        assert_eq!(parse_stamp(&name, "realmkeep-"), Some(t));
        assert_eq!(parse_stamp("realmkeep-garbage.dump", "realmkeep-"), None);
        assert_eq!(parse_stamp(&name, "other-"), None);
    }
}
