//! Just enough of PostgreSQL's lexical rules to find statements and their keywords: comments,
//! string literals (standard, `E'...'` escapes), quoted identifiers and dollar-quoted bodies never
//! produce keywords. Then the per-statement rules of the migration lint.

use super::Rule;

/// One token. Literals, quoted identifiers and dollar-quoted bodies carry no keyword.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// An unquoted word (keyword or identifier), upper-cased.
    Word(String),
    /// A quoted identifier, a string, a number or a parameter: never a keyword.
    Opaque,
    /// A dollar-quoted body, kept whole: a `DO` block runs it during the migration.
    Body(String),
    Punct(u8),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub tok: Tok,
    pub line: usize,
    pub start: usize,
}

/// A lexed migration: its tokens and whether a line comment carries the contract marker.
pub(super) struct Lexed {
    pub tokens: Vec<Token>,
    pub contract: bool,
}

/// A problem the lexer cannot get past (an unterminated literal or comment), with its line.
pub(super) struct LexError {
    pub line: usize,
    pub message: &'static str,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

/// Lines in `b[from..to]`.
fn newlines(b: &[u8], from: usize, to: usize) -> usize {
    b[from..to].iter().filter(|&&c| c == b'\n').count()
}

pub(super) fn lex(sql: &str, marker: &str) -> Result<Lexed, LexError> {
    let b = sql.as_bytes();
    let mut tokens = Vec::new();
    let mut contract = false;
    let (mut i, mut line) = (0usize, 1usize);
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let start = i;
        let tok = match c {
            b'\n' => {
                line += 1;
                i += 1;
                continue;
            }
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                let text = sql[i + 2..end].trim();
                let after = text.strip_prefix(marker).map(|r| r.bytes().next());
                if after.is_some_and(|c| !c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_'))
                {
                    contract = true;
                }
                i = end;
                continue;
            }
            b'/' if next == Some(b'*') => {
                // Block comments nest in PostgreSQL.
                let (mut depth, mut j) = (1, i + 2);
                while depth > 0 {
                    match (b.get(j), b.get(j + 1)) {
                        (None, _) => {
                            return Err(LexError {
                                line,
                                message: "unterminated block comment",
                            })
                        }
                        (Some(b'/'), Some(b'*')) => (depth, j) = (depth + 1, j + 2),
                        (Some(b'*'), Some(b'/')) => (depth, j) = (depth - 1, j + 2),
                        _ => j += 1,
                    }
                }
                line += newlines(b, i, j);
                i = j;
                continue;
            }
            b'\'' => {
                i = skip_quoted(b, i, b'\'', false).ok_or(LexError {
                    line,
                    message: "unterminated string literal",
                })?;
                Tok::Opaque
            }
            b'"' => {
                i = skip_quoted(b, i, b'"', false).ok_or(LexError {
                    line,
                    message: "unterminated quoted identifier",
                })?;
                Tok::Opaque
            }
            b'$' if next.is_some_and(|n| n.is_ascii_digit()) => {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                Tok::Opaque
            }
            b'$' => match dollar_tag(b, i) {
                Some(tag_end) => {
                    let tag = &sql[i..tag_end];
                    let body_end = sql[tag_end..].find(tag).ok_or(LexError {
                        line,
                        message: "unterminated dollar-quoted body",
                    })?;
                    let body = sql[tag_end..tag_end + body_end].to_string();
                    i = tag_end + body_end + tag.len();
                    Tok::Body(body)
                }
                None => {
                    i += 1;
                    Tok::Punct(c)
                }
            },
            _ if is_ident_start(c) => {
                let mut j = i + 1;
                while j < b.len() && is_ident_char(b[j]) {
                    j += 1;
                }
                let word = &sql[i..j];
                if b.get(j) == Some(&b'\'') && word.eq_ignore_ascii_case("e") {
                    // E'...': backslash escapes.
                    i = skip_quoted(b, j, b'\'', true).ok_or(LexError {
                        line,
                        message: "unterminated string literal",
                    })?;
                    Tok::Opaque
                } else {
                    i = j;
                    Tok::Word(word.to_ascii_uppercase())
                }
            }
            _ if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                Tok::Opaque
            }
            _ => {
                i += 1;
                Tok::Punct(c)
            }
        };
        tokens.push(Token { tok, line, start });
        line += newlines(b, start, i);
    }
    Ok(Lexed { tokens, contract })
}

/// The end (exclusive) of the literal opened by `quote` at `b[i]`; a doubled quote is an escaped
/// quote, and with `backslash` a backslash escapes the next byte.
fn skip_quoted(b: &[u8], i: usize, quote: u8, backslash: bool) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match *b.get(j)? {
            c if backslash && c == b'\\' => j += 2,
            c if c == quote && b.get(j + 1) == Some(&quote) => j += 2,
            c if c == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// If a dollar-quote tag (`$$` or `$name$`) opens at `b[i]`, where it ends.
fn dollar_tag(b: &[u8], i: usize) -> Option<usize> {
    // `$` inside an identifier (`a$b`) is handled by the word branch, so `i` starts a token.
    let mut j = i + 1;
    if b.get(j).is_some_and(|&c| is_ident_start(c)) {
        while b
            .get(j)
            .is_some_and(|&c| is_ident_start(c) || c.is_ascii_digit())
        {
            j += 1;
        }
    }
    (b.get(j) == Some(&b'$')).then_some(j + 1)
}

/// A broken rule found in a statement.
pub(super) struct Finding {
    pub line: usize,
    pub rule: Rule,
    pub hint: &'static str,
}

pub(super) fn word(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Word(w)) => Some(w),
        _ => None,
    }
}

/// Tokens of `stmt` at parenthesis depth 0.
pub(super) fn top_level(stmt: &[Token]) -> Vec<&Token> {
    let mut depth = 0i32;
    let mut out = Vec::new();
    for t in stmt {
        match t.tok {
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') => depth -= 1,
            _ if depth == 0 => out.push(t),
            _ => {}
        }
    }
    out
}

fn is_seq(ts: &[&Token], at: usize, words: &[&str]) -> bool {
    words
        .iter()
        .enumerate()
        .all(|(k, w)| word(ts.get(at + k).copied()) == Some(*w))
}

const HINT_DROP: &str = "the previous release may still use it: stop using it in one release, \
    drop it in a later migration marked `-- realmkeep:contract`";
const HINT_RENAME: &str = "the previous release queries the old name: add the new object \
    (or column) beside the old one, copy, switch readers, and drop the old one later";
const HINT_TYPE: &str = "the previous release reads and writes the old type: add a new column \
    of the new type, backfill it, switch, and drop the old column later";
const HINT_SET_NOT_NULL: &str = "the previous release may write NULL here: add a CHECK \
    (col IS NOT NULL) NOT VALID constraint first, and SET NOT NULL once no writer sends NULL";
const HINT_ADD_NOT_NULL: &str = "the previous release inserts without this column: give it a \
    DEFAULT, or add it nullable and tighten it in a later release";
const HINT_TRUNCATE: &str = "migrations never throw data away";

/// The rules one top-level statement breaks.
pub(super) fn check_statement(stmt: &[Token]) -> Vec<Finding> {
    let ts = top_level(stmt);
    let mut out = Vec::new();
    let at = |k: usize| ts.get(k).map_or(stmt[0].line, |t| t.line);
    match word(ts.first().copied()) {
        Some("DROP") => out.push(Finding {
            line: at(0),
            rule: Rule::Drop,
            hint: HINT_DROP,
        }),
        Some("TRUNCATE") => out.push(Finding {
            line: at(0),
            rule: Rule::Truncate,
            hint: HINT_TRUNCATE,
        }),
        Some("ALTER") => check_alter(&ts, &mut out),
        Some("DO") => {
            for t in stmt {
                if let Tok::Body(body) = &t.tok {
                    check_do_body(body, t.line, &mut out);
                }
            }
        }
        _ => {}
    }
    out
}

/// `ALTER ...`: every action (split at top-level commas) is checked on its own.
fn check_alter(ts: &[&Token], out: &mut Vec<Finding>) {
    let is_table = word(ts.get(1).copied()) == Some("TABLE");
    for action in ts.split(|t| t.tok == Tok::Punct(b',')) {
        for k in 0..action.len() {
            let finding = |rule, hint| Finding {
                line: action[k].line,
                rule,
                hint,
            };
            match word(Some(action[k])) {
                Some("RENAME") => out.push(finding(Rule::Rename, HINT_RENAME)),
                Some("DROP") if !is_seq(action, k + 1, &["NOT", "NULL"]) => {
                    out.push(finding(Rule::Drop, HINT_DROP))
                }
                Some("SET") if is_seq(action, k + 1, &["NOT", "NULL"]) => {
                    out.push(finding(Rule::SetNotNull, HINT_SET_NOT_NULL))
                }
                // ALTER [COLUMN] c [SET DATA] TYPE t ("type" may also name a column or table).
                Some("ALTER") if is_table && word(action.get(k + 1).copied()) != Some("TABLE") => {
                    let mut j = k + 1;
                    if word(action.get(j).copied()) == Some("COLUMN") {
                        j += 1;
                    }
                    j += 1;
                    if is_seq(action, j, &["TYPE"]) || is_seq(action, j, &["SET", "DATA", "TYPE"]) {
                        out.push(finding(Rule::AlterType, HINT_TYPE));
                    }
                }
                _ => {}
            }
        }
        if is_table {
            check_add_column(action, out);
        }
    }
}

/// `ADD [COLUMN] [IF NOT EXISTS] name type ... NOT NULL` without DEFAULT or GENERATED.
fn check_add_column(action: &[&Token], out: &mut Vec<Finding>) {
    let Some(add) = action.iter().position(|t| word(Some(t)) == Some("ADD")) else {
        return;
    };
    let constraint = [
        "CONSTRAINT",
        "PRIMARY",
        "UNIQUE",
        "CHECK",
        "FOREIGN",
        "EXCLUDE",
    ];
    if word(action.get(add + 1).copied()).is_some_and(|w| constraint.contains(&w)) {
        return;
    }
    let rest = &action[add + 1..];
    let not_null = (0..rest.len()).find(|&k| {
        is_seq(rest, k, &["NOT", "NULL"]) && (k == 0 || word(Some(rest[k - 1])) != Some("IS"))
    });
    let filled = rest
        .iter()
        .any(|t| matches!(word(Some(t)), Some("DEFAULT" | "GENERATED")));
    if let (Some(k), false) = (not_null, filled) {
        out.push(Finding {
            line: rest[k].line,
            rule: Rule::AddNotNullWithoutDefault,
            hint: HINT_ADD_NOT_NULL,
        });
    }
}

/// A `DO` block runs during the migration and may `EXECUTE` strings as SQL, so its body is scanned
/// conservatively: every word outside comments, strings included, with no statement structure.
fn check_do_body(body: &str, first_line: usize, out: &mut Vec<Finding>) {
    let mut words: Vec<(String, usize)> = Vec::new();
    for (n, text_line) in body.split('\n').enumerate() {
        let code = text_line.split("--").next().unwrap_or_default();
        for w in code.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !w.is_empty() {
                words.push((w.to_ascii_uppercase(), first_line + n));
            }
        }
    }
    let w = |k: usize| words.get(k).map(|(w, _)| w.as_str());
    for (k, (word, line)) in words.iter().enumerate() {
        let (rule, hint) = match word.as_str() {
            "DROP" if !(w(k + 1) == Some("NOT") && w(k + 2) == Some("NULL")) => {
                (Rule::Drop, HINT_DROP)
            }
            "RENAME" => (Rule::Rename, HINT_RENAME),
            "TRUNCATE" => (Rule::Truncate, HINT_TRUNCATE),
            "SET" if w(k + 1) == Some("NOT") && w(k + 2) == Some("NULL") => {
                (Rule::SetNotNull, HINT_SET_NOT_NULL)
            }
            "TYPE"
                if w(k.wrapping_sub(1)) == Some("DATA")
                    || matches!(w(k.wrapping_sub(2)), Some("COLUMN" | "ALTER")) =>
            {
                (Rule::AlterType, HINT_TYPE)
            }
            _ => continue,
        };
        out.push(Finding {
            line: *line,
            rule,
            hint,
        });
    }
}
