//! Header and body checks outside cleanup: the restricted set of actions that a program
//! delivering a message can carry out while it copies the message.
//!
//! Postfix counterpart: `global/header_body_checks.c`. The SMTP and LMTP client use it
//! for smtp_header_checks, smtp_mime_header_checks, smtp_nested_header_checks and
//! smtp_body_checks. The actions are WARN and INFO (logged, the text goes out),
//! REPLACE (logged, the new text goes out), PREPEND (only for a caller that can insert
//! text; the SMTP client cannot, so it is an unsupported command there), STRIP (logged,
//! dropped), IGNORE (dropped quietly, as cleanup does) and DUNNO or OK; anything else is
//! logged as unsupported and the text goes out. A MIME header (Content-*) is checked
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

/// The caller's logging: (action, where, content, text) (`HBC_CALL_BACKS.logger`).
pub type Logger<'a> = &'a mut dyn FnMut(&str, &str, &str, &str);

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

    fn check(&self, context: &str, text: &[u8], logger: Logger) -> Outcome {
        let text = eight_bit::to_text(text);
        match self.maps.find(&text, false) {
            Ok(Some(action)) => hbc_action(&self.map_class, context, &action, &text, logger),
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
        logger: Logger,
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
            Some(checks) => checks.check(CTXT_HEADER, header, logger),
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
    pub fn check(&self, line: &[u8], logger: Logger) -> Outcome {
        self.checks.check(CTXT_BODY, line, logger)
    }
}

/// Carries out `action`, found for `line` in tables `map_class` (`hbc_action`, for a
/// caller without a PREPEND call-back).
fn hbc_action(map_class: &str, context: &str, action: &str, line: &str, logger: Logger) -> Outcome {
    let (command, args) = split_action(action);
    let is = |name: &str| command.eq_ignore_ascii_case(name);
    if is("WARN") {
        logger("warning", context, line, args);
    } else if is("INFO") {
        logger("info", context, line, args);
    } else if is("REPLACE") {
        if action_text_ok("REPLACE", context == CTXT_HEADER, args, map_class) {
            logger("replace", context, line, args);
            return Outcome::Replace(args.to_string());
        }
    } else if is("STRIP") {
        logger("strip", context, line, args);
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

    fn run(action: &str, context: &str) -> (Outcome, Vec<String>) {
        let mut logged = Vec::new();
        let mut logger =
            |a: &str, w: &str, c: &str, t: &str| logged.push(format!("{a}|{w}|{c}|{t}"));
        let out = hbc_action(
            "smtp_header_checks",
            context,
            action,
            "Subject: x",
            &mut logger,
        );
        (out, logged)
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
        // No PREPEND without a call-back, REJECT and the rest are cleanup's.
        assert_eq!(run("PREPEND X-A: b", CTXT_HEADER), (Outcome::Keep, vec![]));
        assert_eq!(run("REJECT no", CTXT_HEADER), (Outcome::Keep, vec![]));
        assert_eq!(run("dunno", CTXT_HEADER), (Outcome::Keep, vec![]));
        assert_eq!(split_action("REPLACE \t a b"), ("REPLACE", "a b"));
    }
}
