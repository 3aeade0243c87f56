//! Connection URLs with their secrets hidden, for logs, errors and `Debug` output.
//!
//! Every place that prints a database or Redis URL prints `redact_url(url)` instead. It errs on
//! the side of hiding too much: a URL it cannot take apart loses more than its password, never
//! less.

/// What a hidden secret prints as.
pub const REDACTED: &str = "***";

/// `url` with the password of its user part (`scheme://user:secret@host`) and the value of every
/// password query parameter (`?password=`, `?pass=`, `?sslpassword=`, ...) replaced by
/// [`REDACTED`]. A URL without a password comes back unchanged.
pub fn redact_url(url: &str) -> String {
    let hidden = match url.find("://") {
        Some(s) => {
            let (scheme, rest) = url.split_at(s + 3);
            // The last '@' ends the user part even if the password holds an unencoded '@', '/'
            // or '?'; an '@' later in the URL only makes more of it hidden.
            match rest.rfind('@') {
                Some(at) => {
                    let (user_part, host_part) = rest.split_at(at);
                    match user_part.find(':') {
                        Some(c) => format!("{scheme}{}:{REDACTED}{host_part}", &user_part[..c]),
                        None => url.to_string(),
                    }
                }
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    };
    redact_password_params(&hidden)
}

/// Whether a query parameter (or connection-string keyword) named `key` carries a password.
fn is_password_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "pass" || k.contains("password")
}

/// Hides the value of every `key=value` whose key names a password, wherever it starts after
/// `?`, `&`, `;`, whitespace or the start of the text (query parameters and `key=value`
/// connection strings alike).
fn redact_password_params(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut at_boundary = true;
    while let Some(c) = rest.chars().next() {
        if at_boundary {
            if let Some(eq) = rest.find('=') {
                let key = &rest[..eq];
                let key_ok = !key.is_empty() && !key.contains(is_separator) && !key.contains('#');
                if key_ok && is_password_key(key) {
                    let value = &rest[eq + 1..];
                    let end = value
                        .find(|ch: char| is_separator(ch) || ch == '#')
                        .unwrap_or(value.len());
                    out.push_str(key);
                    out.push('=');
                    out.push_str(REDACTED);
                    rest = &value[end..];
                    at_boundary = false;
                    continue;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        at_boundary = is_separator(c);
    }
    out
}

fn is_separator(c: char) -> bool {
    matches!(c, '?' | '&' | ';') || c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_part_loses_its_password() {
        assert_eq!(
            redact_url("redis://realmkeep:s3cret@127.0.0.1:6379/"),
            "redis://realmkeep:***@127.0.0.1:6379/"
        );
        assert_eq!(
            redact_url("postgres://rk:hunter2@db.example.org:5432/realmkeep"),
            "postgres://rk:***@db.example.org:5432/realmkeep"
        );
        assert_eq!(
            redact_url("rediss://app:tls-secret@redis.example.org:6380/0"),
            "rediss://app:***@redis.example.org:6380/0"
        );
    }

    #[test]
    fn a_password_without_a_user_is_hidden() {
        assert_eq!(
            redact_url("redis://:only-pass@127.0.0.1:6379/"),
            "redis://:***@127.0.0.1:6379/"
        );
    }

    #[test]
    fn password_query_parameters_are_hidden() {
        assert_eq!(
            redact_url("postgres://rk@127.0.0.1/db?password=x&a=b"),
            "postgres://rk@127.0.0.1/db?password=***&a=b"
        );
        assert_eq!(
            redact_url("postgres://127.0.0.1/db?sslmode=require&PASSWORD=x#frag"),
            "postgres://127.0.0.1/db?sslmode=require&PASSWORD=***#frag"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?db=1&pass=x"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(
            redact_url("host=db user=rk password=x dbname=realmkeep"),
            "host=db user=rk password=*** dbname=realmkeep"
        );
    }

    #[test]
    fn both_places_at_once() {
        let s = redact_url("postgres://rk:one@h/db?sslpassword=two&application_name=x");
        assert!(!s.contains("one") && !s.contains("two"), "{s}");
        assert!(s.ends_with("&application_name=x"), "{s}");
    }

    #[test]
    fn awkward_passwords_never_show() {
        for url in [
            "redis://u:p@ss@127.0.0.1:6379/",
            "redis://u:pa/ss@127.0.0.1:6379/",
            "redis://u:pa?ss@127.0.0.1:6379/",
            "postgres://u:secret@h/db?application_name=a@b",
        ] {
            let s = redact_url(url);
            assert!(!s.contains("ss@") && !s.contains("secret"), "{url} -> {s}");
        }
    }

    #[test]
    fn urls_without_a_password_are_unchanged() {
        for url in [
            "redis://127.0.0.1:6379/",
            "postgres://postgres@127.0.0.1:5432/realmkeep",
            "rediss://redis.example.org:6380/0",
            "postgres://rk@h/db?sslmode=require&application_name=realmkeep",
            "not a url",
            "",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }
}
