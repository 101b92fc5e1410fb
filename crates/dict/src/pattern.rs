//! Pattern tables: the rule language `regexp:` and `pcre:` share, over either engine.
//!
//! Postfix counterparts: the parsers and lookup loops of `util/dict_regexp.c` and
//! `util/dict_pcre.c`, which are the same language with different engines (see
//! regexp_table(5), pcre_table(5)). A rule is `/pattern/flags result` (any delimiter; `!`
//! before a pattern negates it), or `if /pattern/` ... `endif`; the first matching rule
//! wins and its result gets `$1`...`$9` filled in. Broken rules are skipped with Postfix's
//! warnings, naming the map and line.

use crate::{Dict, DictError, source};
use util::mac_expand::{Piece, pieces};

pub(crate) use sys::Groups;

/// What differs between the regexp and pcre tables.
pub(crate) trait Engine: Sized {
    /// The table type as warnings name it ("regexp map ...").
    const TYPE: &'static str;
    /// regexp allows `/p1/!/p2/` (p1 and not p2); its flags then also end at `!`.
    const SECOND_PATTERN: bool;
    /// How the missing-delimiter warning ends.
    const NO_CLOSING_ACTION: &'static str;
    /// Pattern flags.
    type Options: Copy;
    /// Flags before any letter toggles them.
    fn default_options() -> Self::Options;
    /// Applies one flag letter: Ok(Some(warning)) for a flag that is accepted but only
    /// warned about, Err(()) for an unknown one.
    fn flag(options: &mut Self::Options, letter: char) -> Result<Option<String>, ()>;
    /// Compiles; the error is the warning text after "map M, line N: ".
    fn compile(text: &str, options: Self::Options, nosub: bool) -> Result<Self, String>;
    /// The number of capture groups.
    fn groups(&self) -> usize;
    /// Matches, reporting at least `want` groups; Err is a run-time failure to warn about.
    fn find(&self, text: &str, want: usize) -> Result<Option<Groups>, String>;
}

struct Pattern<E> {
    engine: E,
    match_wanted: bool,
}

enum Rule<E> {
    Match {
        line: usize,
        first: Pattern<E>,
        second: Option<Pattern<E>>,
        max_sub: usize,
        replacement: String,
    },
    If {
        line: usize,
        pattern: Pattern<E>,
        endif: Option<usize>,
    },
    Endif,
}

/// A pattern table over engine `E`.
pub(crate) struct PatternTable<E> {
    spec: String,
    path: String,
    rules: Vec<Rule<E>>,
}

/// A pattern as written, before compiling.
struct RawPattern<O> {
    text: String,
    options: O,
    match_wanted: bool,
}

/// Warnings for one line of one map.
struct Place<'a> {
    kind: &'static str,
    map: &'a str,
    line: usize,
}

impl Place<'_> {
    fn warn(&self, text: &str) {
        log::msg_warn!("{} map {}, line {}: {text}", self.kind, self.map, self.line);
    }
}

/// Reads `[!]<delim>pattern<delim>flags` from the start of `text`; returns it and the rest.
fn get_pattern<'a, E: Engine>(
    at: &Place,
    text: &'a str,
) -> Option<(RawPattern<E::Options>, &'a str)> {
    let (rest, match_wanted) = negations(text);
    let Some(delim) = rest.chars().next() else {
        at.warn("no regexp: skipping this rule");
        return None;
    };
    let body = &rest[delim.len_utf8()..];
    // The closing delimiter, skipping backslash-escaped characters (whole characters, so
    // that text beyond ASCII is never split).
    let mut end = None;
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            if chars.next().is_none() {
                break;
            }
        } else if c == delim {
            end = Some(i);
            break;
        }
    }
    let Some(end) = end else {
        at.warn(&format!(
            "no closing regexp delimiter \"{delim}\": {}",
            E::NO_CLOSING_ACTION
        ));
        return None;
    };
    let mut options = E::default_options();
    let mut after = &body[end + delim.len_utf8()..];
    while let Some(c) = after.chars().next() {
        if c.is_ascii_whitespace() || (E::SECOND_PATTERN && c == '!') {
            break;
        }
        match E::flag(&mut options, c) {
            Ok(None) => {}
            Ok(Some(warning)) => at.warn(&warning),
            Err(()) => {
                at.warn(&format!(
                    "unknown regexp option \"{c}\": skipping this rule"
                ));
                return None;
            }
        }
        after = &after[c.len_utf8()..];
    }
    Some((
        RawPattern {
            text: body[..end].to_string(),
            options,
            match_wanted,
        },
        after,
    ))
}

fn compile<E: Engine>(at: &Place, raw: RawPattern<E::Options>, nosub: bool) -> Option<Pattern<E>> {
    match E::compile(&raw.text, raw.options, nosub) {
        Ok(engine) => Some(Pattern {
            engine,
            match_wanted: raw.match_wanted,
        }),
        Err(why) => {
            at.warn(&why);
            None
        }
    }
}

/// The highest `$N` in a replacement; None (with the warning given) when it is malformed.
fn prescan(at: &Place, text: &str) -> Option<usize> {
    let (parts, error) = pieces(text);
    let bad = || at.warn("bad replacement syntax: skipping this rule");
    if let Some(error) = error {
        // mac_parse's own complaint comes first, without the map's name, as in Postfix.
        log::msg_warn!("{error}");
        bad();
        return None;
    }
    let mut max = 0;
    for part in parts {
        if let Piece::Name(name) = part {
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                at.warn(&format!("non-numeric replacement index \"{name}\""));
                bad();
                return None;
            }
            let n: usize = name.parse().unwrap_or(0);
            if n < 1 {
                at.warn(&format!("out-of-range replacement index \"{name}\""));
                bad();
                return None;
            }
            max = max.max(n);
        }
    }
    Some(max)
}

/// Strips leading `!`s and whitespace; returns the rest and whether a match is wanted.
pub(crate) fn negations(mut text: &str) -> (&str, bool) {
    let mut wanted = true;
    loop {
        if let Some(rest) = text.strip_prefix('!') {
            wanted = !wanted;
            text = rest;
        } else if text.starts_with(|c: char| c.is_ascii_whitespace()) {
            text = &text[1..];
        } else {
            return (text, wanted);
        }
    }
}

/// `word` (any case) at the start of `text` and not followed by a letter or digit: the
/// rest of the text.
pub(crate) fn keyword<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .then_some(rest)
}

fn parse_rule<E: Engine>(at: &Place, text: &str, nesting: usize) -> Option<Rule<E>> {
    if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        let (first, rest) = get_pattern::<E>(at, text)?;
        let (second, rest) = match rest.strip_prefix('!').filter(|_| E::SECOND_PATTERN) {
            Some(_) => {
                let (p, r) = get_pattern::<E>(at, rest)?;
                (Some(p), r)
            }
            None => (None, rest),
        };
        let replacement = rest.trim_matches(|c: char| c.is_ascii_whitespace());
        if replacement.is_empty() {
            at.warn("no replacement text: using empty string");
        }
        let max_sub = prescan(at, replacement)?;
        if max_sub > 0 && !first.match_wanted {
            at.warn("$number found in negative match replacement text: skipping this rule");
            return None;
        }
        let first = compile::<E>(at, first, max_sub == 0)?;
        if max_sub > first.engine.groups() {
            at.warn(&format!(
                "out of range replacement index \"{max_sub}\": skipping this rule"
            ));
            return None;
        }
        let second = match second {
            Some(raw) => Some(compile::<E>(at, raw, true)?),
            None => None,
        };
        return Some(Rule::Match {
            line: at.line,
            first,
            second,
            max_sub,
            replacement: replacement.to_string(),
        });
    }
    if let Some(rest) = keyword(text, "if") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (raw, extra) = get_pattern::<E>(at, rest)?;
        let extra = extra.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if !extra.is_empty() {
            at.warn(&format!(
                "ignoring extra text after IF statement: \"{extra}\""
            ));
            at.warn("do not prepend whitespace to statements between IF and ENDIF");
        }
        return compile::<E>(at, raw, true).map(|pattern| Rule::If {
            line: at.line,
            pattern,
            endif: None,
        });
    }
    if let Some(rest) = keyword(text, "endif") {
        if nesting == 0 {
            at.warn("ignoring ENDIF without matching IF");
            return None;
        }
        if !rest.trim().is_empty() {
            at.warn("ignoring extra text after ENDIF");
        }
        return Some(Rule::Endif);
    }
    at.warn("ignoring unrecognized request");
    None
}

impl<E: Engine> PatternTable<E> {
    /// Reads and compiles the table.
    pub(crate) fn open(path: &str) -> Result<Self, DictError> {
        let lines = source::read(path, |e| format!("open {path}: {}", sys::os_error(e)))?;
        let mut rules: Vec<Rule<E>> = Vec::new();
        let mut open_ifs: Vec<(usize, usize)> = Vec::new();
        for line in lines.into_iter().map(|l| l.line) {
            let at = Place {
                kind: E::TYPE,
                map: path,
                line: line.first_line,
            };
            let Some(rule) = parse_rule::<E>(&at, &line.text, open_ifs.len()) else {
                continue;
            };
            match &rule {
                Rule::If { .. } => open_ifs.push((rules.len(), line.first_line)),
                Rule::Endif => {
                    let here = rules.len();
                    if let Some((start, _)) = open_ifs.pop()
                        && let Rule::If { endif, .. } = &mut rules[start]
                    {
                        *endif = Some(here);
                    }
                }
                Rule::Match { .. } => {}
            }
            rules.push(rule);
        }
        for (_, line) in open_ifs {
            log::msg_warn!(
                "{} map {path}, line {line}: IF has no matching ENDIF",
                E::TYPE
            );
        }
        Ok(PatternTable {
            spec: format!("{}:{path}", E::TYPE),
            path: path.to_string(),
            rules,
        })
    }

    /// Whether `pattern` decides for `key`, with the groups when it matched. A run-time
    /// failure is warned about and counts as "does not match", as in Postfix.
    fn test(&self, line: usize, pattern: &Pattern<E>, key: &str, want: usize) -> Option<Groups> {
        let found = pattern.engine.find(key, want).unwrap_or_else(|why| {
            log::msg_warn!("{} map {}, line {line}: {why}", E::TYPE, self.path);
            None
        });
        match (found, pattern.match_wanted) {
            (Some(groups), true) => Some(groups),
            (None, false) => Some(Vec::new()),
            _ => None,
        }
    }
}

/// The replacement with `$N` filled in from the match (unset groups give nothing).
fn expand(replacement: &str, key: &str, groups: &[Option<(usize, usize)>]) -> String {
    let (parts, _) = pieces(replacement);
    let mut out = String::new();
    for part in parts {
        match part {
            Piece::Literal(t) => out.push_str(&t),
            Piece::Name(n) => {
                let index: usize = n.parse().unwrap_or(0);
                if let Some(Some((start, end))) = groups.get(index) {
                    // Byte-mode engines may split a UTF-8 character; show it as Postfix
                    // would see bytes, never panic.
                    let bytes = key.as_bytes().get(*start..*end).unwrap_or_default();
                    out.push_str(&String::from_utf8_lossy(bytes));
                }
            }
        }
    }
    out
}

impl<E: Engine> Dict for PatternTable<E> {
    fn impl_flags(&self) -> u32 {
        crate::dict_flags::PATTERN
    }

    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let mut i = 0;
        while i < self.rules.len() {
            match &self.rules[i] {
                Rule::Match {
                    line,
                    first,
                    second,
                    max_sub,
                    replacement,
                } => {
                    if let Some(groups) = self.test(*line, first, key, *max_sub)
                        && second
                            .as_ref()
                            .is_none_or(|s| self.test(*line, s, key, 0).is_some())
                    {
                        return Ok(Some(expand(replacement, key, &groups)));
                    }
                }
                Rule::If {
                    line,
                    pattern,
                    endif,
                } => {
                    if self.test(*line, pattern, key, 0).is_none() {
                        match endif {
                            Some(end) => {
                                i = *end;
                                continue;
                            }
                            None => return Ok(None),
                        }
                    }
                }
                Rule::Endif => {}
            }
            i += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Flags, open};

    #[test]
    fn patterns_beyond_ascii() {
        let dir = std::env::temp_dir().join(format!("pattern-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t");
        // Found by fuzzing: a multi-byte character inside a pattern, escaped or not, or as
        // the delimiter.
        std::fs::write(&path, "/café/ cafe\n/\\é/ escaped\n§x§ section\n").unwrap();
        let table = open(&format!("regexp:{}", path.display()), Flags::default()).unwrap();
        assert_eq!(table.lookup("un café").unwrap().as_deref(), Some("cafe"));
        assert_eq!(table.lookup("é").unwrap().as_deref(), Some("escaped"));
        assert_eq!(table.lookup("x").unwrap().as_deref(), Some("section"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
