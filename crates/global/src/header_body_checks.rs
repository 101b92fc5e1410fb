//! Header and body checks outside cleanup: the restricted set of actions that a program
//! delivering a message can carry out while it copies the message.
//!
//! Postfix counterpart: `global/header_body_checks.c`. The SMTP and LMTP client use it
//! for smtp_header_checks, smtp_mime_header_checks, smtp_nested_header_checks and
//! smtp_body_checks. The actions are WARN and INFO (logged, the text goes out),
//! REPLACE (logged, the new text goes out), PREPEND (logged, the caller writes the text
//! before the checked text; without a way to do that it is an unsupported command),
//! STRIP (logged, dropped), IGNORE (dropped quietly, as cleanup does) and DUNNO or OK;
//! anything else is logged as unsupported and the text goes out. A MIME header (Content-*) is checked
//! against the MIME header tables wherever it is, as cleanup does. cleanup's own action
//! table (`cleanup/cleanup_message.c`'s `cleanup_act`) shares the command split and the
//! REPLACE/PREPEND text checks.

use crate::maps::Maps;
use rfc822::mime::HeaderClass;
use rfc822::mime::header_opts::{HeaderFlags, HeaderInfo, is_header};
use util::eight_bit;

/// A table value split into its command and the text after it (`cmd`, `cmd_args`).
pub fn split_action(value: &str) -> (&str, &str) {
    let len = value.find([' ', '\t']).unwrap_or(value.len());
    let (command, args) = value.split_at(len);
    (
        command,
        args.trim_start_matches(|c: char| c.is_ascii_whitespace()),
    )
}

/// Whether `args` may be the text of a REPLACE or PREPEND `action` in tables
/// `map_class`: not empty, and for a header a header (the warning when not).
pub fn action_text_ok(action: &str, header: bool, args: &str, map_class: &str) -> bool {
    if args.is_empty() {
        log::msg_warn!("{action} action without text in {map_class} map");
        false
    } else if header && is_header(args.as_bytes()) == 0 {
        log::msg_warn!(
            "bad {action} header text \"{args}\" in {map_class} map -- need \"headername: headervalue\""
        );
        false
    } else {
        true
    }
}

/// At most `max` bytes of `text`, cut at a character boundary (C's `%.60s` in the
/// callers' log lines).
pub fn clip(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// What becomes of the checked text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It goes out as it is.
    Keep,
    /// It is dropped (`HBC_CHECKS_STAT_IGNORE`).
    Ignore,
    /// This goes out instead.
    Replace(String),
    /// The table could not be read (`HBC_CHECKS_STAT_ERROR`).
    Error,
}

/// Where a check was made, as the log line says it (`HBC_CTXT_*`).
pub const CTXT_HEADER: &str = "header";
/// A body line.
pub const CTXT_BODY: &str = "body";

/// What the caller does for the checks (`HBC_CALL_BACKS`).
pub trait Callbacks {
    /// Logs an action: its name, where (`header`, `body`), the checked text and the
    /// action's text (`logger`).
    fn log(&mut self, action: &str, place: &str, content: &str, text: &str);

    /// Whether the caller can write text before the checked text (a `prepend`
    /// call-back).
    fn can_prepend(&self) -> bool {
        false
    }

    /// Writes `text` (a header or a body line) before the checked text (`prepend`).
    fn prepend(&mut self, text: &str) {
        let _ = text;
    }
}

/// One table list and its parameter name.
struct Checks {
    map_class: String,
    maps: Maps,
}

impl Checks {
    fn open(name: &str, value: &str) -> Result<Option<Checks>, dict::DictError> {
        if value.trim().is_empty() {
            return Ok(None);
        }
        // Patterns are used as written (Postfix's DICT_FLAG_LOCK alone).
        let flags = dict::Flags {
            fold_fix: false,
            ..dict::Flags::default()
        };
        Ok(Some(Checks {
            map_class: name.to_string(),
            maps: Maps::new(name, value, flags)?,
        }))
    }

    fn check(&self, context: &str, text: &[u8], cb: &mut dyn Callbacks) -> Outcome {
        let text = eight_bit::to_text(text);
        match self.maps.find(&text, false) {
            Ok(Some(action)) => hbc_action(&self.map_class, context, &action, &text, cb),
            Ok(None) => Outcome::Keep,
            Err(_) => Outcome::Error,
        }
    }
}

/// Header checks by header class (`hbc_header_checks_create`): primary, MIME, nested.
pub struct HeaderChecks {
    tables: [Option<Checks>; 3],
}

impl HeaderChecks {
    /// The three table lists as (parameter name, value); None when all are empty.
    pub fn create(
        header: (&str, &str),
        mime: (&str, &str),
        nested: (&str, &str),
    ) -> Result<Option<HeaderChecks>, dict::DictError> {
        if [header, mime, nested]
            .iter()
            .all(|(_, v)| v.trim().is_empty())
        {
            return Ok(None);
        }
        Ok(Some(HeaderChecks {
            tables: [
                Checks::open(header.0, header.1)?,
                Checks::open(mime.0, mime.1)?,
                Checks::open(nested.0, nested.1)?,
            ],
        }))
    }

    /// A header (its continuation lines joined with `\n`) checked (`hbc_header_checks`).
    pub fn check(
        &self,
        class: HeaderClass,
        info: Option<&HeaderInfo>,
        header: &[u8],
        cb: &mut dyn Callbacks,
    ) -> Outcome {
        // A MIME header counts as one wherever it is, as in cleanup.
        let class = match info {
            Some(info) if info.flags.contains(HeaderFlags::MIME) => HeaderClass::Multipart,
            _ => class,
        };
        let index = match class {
            HeaderClass::Primary => 0,
            HeaderClass::Multipart => 1,
            HeaderClass::Nested => 2,
        };
        match &self.tables[index] {
            Some(checks) => checks.check(CTXT_HEADER, header, cb),
            None => Outcome::Keep,
        }
    }
}

/// Body checks (`hbc_body_checks_create`).
pub struct BodyChecks {
    checks: Checks,
}

impl BodyChecks {
    /// The table list of parameter `name`; None when empty.
    pub fn create(name: &str, value: &str) -> Result<Option<BodyChecks>, dict::DictError> {
        Ok(Checks::open(name, value)?.map(|checks| BodyChecks { checks }))
    }

    /// A body line checked (`hbc_body_checks`).
    pub fn check(&self, line: &[u8], cb: &mut dyn Callbacks) -> Outcome {
        self.checks.check(CTXT_BODY, line, cb)
    }
}

/// Carries out `action`, found for `line` in tables `map_class` (`hbc_action`).
fn hbc_action(
    map_class: &str,
    context: &str,
    action: &str,
    line: &str,
    cb: &mut dyn Callbacks,
) -> Outcome {
    let (command, args) = split_action(action);
    let is = |name: &str| command.eq_ignore_ascii_case(name);
    if is("WARN") {
        cb.log("warning", context, line, args);
    } else if is("INFO") {
        cb.log("info", context, line, args);
    } else if is("REPLACE") {
        if action_text_ok("REPLACE", context == CTXT_HEADER, args, map_class) {
            cb.log("replace", context, line, args);
            return Outcome::Replace(args.to_string());
        }
    } else if cb.can_prepend() && is("PREPEND") {
        if action_text_ok("PREPEND", context == CTXT_HEADER, args, map_class) {
            cb.log("prepend", context, line, args);
            cb.prepend(args);
        }
    } else if is("STRIP") {
        cb.log("strip", context, line, args);
        return Outcome::Ignore;
    } else if is("IGNORE") {
        // Not logged, for compatibility with cleanup.
        return Outcome::Ignore;
    } else if !is("DUNNO") && !is("OK") {
        log::msg_warn!("unsupported command in {map_class} map: {action}");
    }
    Outcome::Keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Seen {
        prepends: bool,
        logged: Vec<String>,
    }

    impl Callbacks for Seen {
        fn log(&mut self, action: &str, place: &str, content: &str, text: &str) {
            self.logged
                .push(format!("{action}|{place}|{content}|{text}"));
        }
        fn can_prepend(&self) -> bool {
            self.prepends
        }
        fn prepend(&mut self, text: &str) {
            self.logged.push(format!("PREPENDED {text}"));
        }
    }

    fn run_with(action: &str, context: &str, prepends: bool) -> (Outcome, Vec<String>) {
        let mut seen = Seen {
            prepends,
            ..Seen::default()
        };
        let out = hbc_action(
            "smtp_header_checks",
            context,
            action,
            "Subject: x",
            &mut seen,
        );
        (out, seen.logged)
    }

    fn run(action: &str, context: &str) -> (Outcome, Vec<String>) {
        run_with(action, context, false)
    }

    #[test]
    fn actions() {
        assert_eq!(
            run("warn  look", CTXT_HEADER),
            (
                Outcome::Keep,
                vec!["warning|header|Subject: x|look".to_string()]
            )
        );
        assert_eq!(
            run("STRIP", CTXT_HEADER),
            (
                Outcome::Ignore,
                vec!["strip|header|Subject: x|".to_string()]
            )
        );
        assert_eq!(run("IGNORE", CTXT_HEADER), (Outcome::Ignore, vec![]));
        assert_eq!(
            run("REPLACE X-New: y", CTXT_HEADER),
            (
                Outcome::Replace("X-New: y".into()),
                vec!["replace|header|Subject: x|X-New: y".to_string()]
            )
        );
        // Not a header: the text goes out unchanged.
        assert_eq!(
            run("REPLACE not a header", CTXT_HEADER),
            (Outcome::Keep, vec![])
        );
        assert_eq!(
            run("REPLACE any text", CTXT_BODY).0,
            Outcome::Replace("any text".into())
        );
        // No PREPEND without a call-back; REJECT and the rest are cleanup's.
        assert_eq!(run("PREPEND X-A: b", CTXT_HEADER), (Outcome::Keep, vec![]));
        assert_eq!(
            run_with("PREPEND X-A: b", CTXT_HEADER, true).1,
            ["prepend|header|Subject: x|X-A: b", "PREPENDED X-A: b"]
        );
        assert_eq!(run("REJECT no", CTXT_HEADER), (Outcome::Keep, vec![]));
        assert_eq!(run("dunno", CTXT_HEADER), (Outcome::Keep, vec![]));
        assert_eq!(split_action("REPLACE \t a b"), ("REPLACE", "a b"));
    }
}
