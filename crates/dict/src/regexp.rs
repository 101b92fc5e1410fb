//! `regexp:` tables: POSIX patterns with `$1`...`$9` substitution, first match wins.
//!
//! Postfix counterpart: `util/dict_regexp.c` (see regexp_table(5)). A rule is
//! `/pattern/flags result` (any delimiter; `!` before a pattern negates it;
//! `/p1/!/p2/` requires p1 and not p2), or `if /pattern/` ... `endif`. Patterns are
//! extended and case-insensitive by default; the flags `i`, `x` and `m` toggle case
//! folding, extended syntax and newline handling. Broken rules are skipped with Postfix's
//! warnings, naming the line.

use crate::{Dict, DictError, source};
use sys::regex::{Options, Regex};
use util::mac_expand::{Piece, pieces};

struct Pattern {
    regex: Regex,
    match_wanted: bool,
}

impl Pattern {
    fn matches(&self, text: &str, want: usize) -> Option<Vec<Option<(usize, usize)>>> {
        match (self.regex.matches(text, want), self.match_wanted) {
            (Some(groups), true) => Some(groups),
            (None, false) => Some(Vec::new()),
            _ => None,
        }
    }
}

enum Rule {
    Match {
        first: Pattern,
        second: Option<Pattern>,
        max_sub: usize,
        replacement: String,
    },
    If(Pattern, Option<usize>),
    Endif,
}

/// A regexp table.
pub struct Regexp {
    spec: String,
    rules: Vec<Rule>,
}

/// A pattern as written: text, options and negation, before compiling.
struct RawPattern {
    text: String,
    options: Options,
    match_wanted: bool,
}

/// Reads `[!]<delim>pattern<delim>flags` from the start of `text`; returns it and the rest.
fn get_pattern<'a>(map: &str, line: usize, text: &'a str) -> Option<(RawPattern, &'a str)> {
    let mut match_wanted = true;
    let mut rest = text;
    loop {
        if let Some(r) = rest.strip_prefix('!') {
            match_wanted = !match_wanted;
            rest = r;
        } else if rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    let Some(delim) = rest.chars().next() else {
        log::msg_warn!("regexp map {map}, line {line}: no regexp: skipping this rule");
        return None;
    };
    let body = &rest[delim.len_utf8()..];
    let bytes = body.as_bytes();
    let mut end = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if i + 1 < bytes.len() {
                i += 2;
                continue;
            }
            break;
        }
        if body[i..].starts_with(delim) {
            end = Some(i);
            break;
        }
        i += 1;
    }
    let Some(end) = end else {
        log::msg_warn!(
            "regexp map {map}, line {line}: no closing regexp delimiter \"{delim}\": skipping this rule"
        );
        return None;
    };
    let mut options = Options {
        extended: true,
        icase: true,
        newline: false,
        nosub: false,
    };
    let mut after = &body[end + delim.len_utf8()..];
    while let Some(c) = after.chars().next() {
        if c.is_ascii_whitespace() || c == '!' {
            break;
        }
        match c {
            'i' => options.icase = !options.icase,
            'm' => options.newline = !options.newline,
            'x' => options.extended = !options.extended,
            other => {
                log::msg_warn!(
                    "regexp map {map}, line {line}: unknown regexp option \"{other}\": skipping this rule"
                );
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

fn compile(map: &str, line: usize, raw: RawPattern) -> Option<Pattern> {
    match Regex::new(&raw.text, raw.options) {
        Ok(regex) => Some(Pattern {
            regex,
            match_wanted: raw.match_wanted,
        }),
        Err(why) => {
            log::msg_warn!("regexp map {map}, line {line}: {why}");
            None
        }
    }
}

/// The highest `$N` in a replacement; None (with the warning given) when it is malformed.
fn prescan(map: &str, line: usize, text: &str) -> Option<usize> {
    let (parts, error) = pieces(text);
    if error.is_some() {
        log::msg_warn!("regexp map {map}, line {line}: bad replacement syntax: skipping this rule");
        return None;
    }
    let mut max = 0;
    for part in parts {
        if let Piece::Name(name) = part {
            if !name.bytes().all(|b| b.is_ascii_digit()) {
                log::msg_warn!(
                    "regexp map {map}, line {line}: non-numeric replacement index \"{name}\""
                );
                log::msg_warn!(
                    "regexp map {map}, line {line}: bad replacement syntax: skipping this rule"
                );
                return None;
            }
            let n: usize = name.parse().unwrap_or(0);
            if n < 1 {
                log::msg_warn!(
                    "regexp map {map}, line {line}: out-of-range replacement index \"{name}\""
                );
                log::msg_warn!(
                    "regexp map {map}, line {line}: bad replacement syntax: skipping this rule"
                );
                return None;
            }
            max = max.max(n);
        }
    }
    Some(max)
}

fn keyword<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    let rest = &text[word.len()..];
    (head.eq_ignore_ascii_case(word) && !rest.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .then_some(rest)
}

fn parse_rule(map: &str, line: usize, text: &str, nesting: usize) -> Option<Rule> {
    if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        let (first, rest) = get_pattern(map, line, text)?;
        let (second, rest) = match rest.strip_prefix('!') {
            Some(_) => {
                let (p, r) = get_pattern(map, line, rest)?;
                (Some(p), r)
            }
            None => (None, rest),
        };
        let replacement = rest.trim_matches(|c: char| c.is_ascii_whitespace());
        if replacement.is_empty() {
            log::msg_warn!(
                "regexp map {map}, line {line}: no replacement text: using empty string"
            );
        }
        let max_sub = prescan(map, line, replacement)?;
        if max_sub > 0 && !first.match_wanted {
            log::msg_warn!(
                "regexp map {map}, line {line}: $number found in negative match replacement text: skipping this rule"
            );
            return None;
        }
        let mut first = first;
        first.options.nosub = max_sub == 0;
        let first = compile(map, line, first)?;
        if max_sub > first.regex.groups() {
            log::msg_warn!(
                "regexp map {map}, line {line}: out of range replacement index \"{max_sub}\": skipping this rule"
            );
            return None;
        }
        let second = match second {
            Some(mut raw) => {
                raw.options.nosub = true;
                Some(compile(map, line, raw)?)
            }
            None => None,
        };
        return Some(Rule::Match {
            first,
            second,
            max_sub,
            replacement: replacement.to_string(),
        });
    }
    if let Some(rest) = keyword(text, "if") {
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (raw, extra) = get_pattern(map, line, rest)?;
        let extra = extra.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if !extra.is_empty() {
            log::msg_warn!(
                "regexp map {map}, line {line}: ignoring extra text after IF statement: \"{extra}\""
            );
            log::msg_warn!(
                "regexp map {map}, line {line}: do not prepend whitespace to statements between IF and ENDIF"
            );
        }
        let mut raw = raw;
        raw.options.nosub = true;
        return compile(map, line, raw).map(|p| Rule::If(p, None));
    }
    if let Some(rest) = keyword(text, "endif") {
        if nesting == 0 {
            log::msg_warn!("regexp map {map}, line {line}: ignoring ENDIF without matching IF");
            return None;
        }
        if !rest.trim().is_empty() {
            log::msg_warn!("regexp map {map}, line {line}: ignoring extra text after ENDIF");
        }
        return Some(Rule::Endif);
    }
    log::msg_warn!("regexp map {map}, line {line}: ignoring unrecognized request");
    None
}

impl Regexp {
    /// Reads and compiles the table.
    pub fn open(path: &str) -> Result<Regexp, DictError> {
        let lines = source::read(path, |e| format!("open {path}: {}", source::os_error(e)))?;
        let mut rules: Vec<Rule> = Vec::new();
        let mut open_ifs: Vec<(usize, usize)> = Vec::new();
        for line in lines.into_iter().map(|l| l.line) {
            let Some(rule) = parse_rule(path, line.first_line, &line.text, open_ifs.len()) else {
                continue;
            };
            match &rule {
                Rule::If(..) => open_ifs.push((rules.len(), line.first_line)),
                Rule::Endif => {
                    let here = rules.len();
                    if let Some((start, _)) = open_ifs.pop()
                        && let Rule::If(_, end) = &mut rules[start]
                    {
                        *end = Some(here);
                    }
                }
                Rule::Match { .. } => {}
            }
            rules.push(rule);
        }
        for (_, line) in open_ifs {
            log::msg_warn!("regexp map {path}, line {line}: IF has no matching ENDIF");
        }
        Ok(Regexp {
            spec: format!("regexp:{path}"),
            rules,
        })
    }
}

/// The replacement with `$N` filled in from the match.
fn expand(replacement: &str, text: &str, groups: &[Option<(usize, usize)>]) -> String {
    let (parts, _) = pieces(replacement);
    let mut out = String::new();
    for part in parts {
        match part {
            Piece::Literal(t) => out.push_str(&t),
            Piece::Name(n) => {
                let index: usize = n.parse().unwrap_or(0);
                if let Some(Some((start, end))) = groups.get(index) {
                    out.push_str(&text[*start..*end]);
                }
            }
        }
    }
    out
}

impl Dict for Regexp {
    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let mut i = 0;
        while i < self.rules.len() {
            match &self.rules[i] {
                Rule::Match {
                    first,
                    second,
                    max_sub,
                    replacement,
                } => {
                    if let Some(groups) = first.matches(key, *max_sub)
                        && second.as_ref().is_none_or(|s| s.matches(key, 0).is_some())
                    {
                        if *max_sub == 0 {
                            let (parts, _) = pieces(replacement);
                            let literal: String = parts
                                .into_iter()
                                .map(|p| match p {
                                    Piece::Literal(t) => t,
                                    Piece::Name(_) => String::new(),
                                })
                                .collect();
                            return Ok(Some(literal));
                        }
                        return Ok(Some(expand(replacement, key, &groups)));
                    }
                }
                Rule::If(pattern, end) => {
                    if pattern.matches(key, 0).is_none() {
                        match end {
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
