//! Header and body checks: the table lookup for each header or body line, and the action
//! a match asks for.
//!
//! Postfix counterparts: `cleanup_act` and `cleanup_act_log` of
//! `cleanup/cleanup_message.c`, and the check blocks of its `cleanup_header_callback`
//! (header_checks for the message's own headers, mime_header_checks for MIME headers and
//! the headers of attachments, nested_header_checks for the headers of an attached
//! message) and `cleanup_body_callback` (body_checks, for the first
//! `body_checks_size_limit` bytes of the body). Checks run only when the client asked for
//! them (`CLEANUP_FLAG_FILTER`); REJECT, DISCARD, REDIRECT and PASS switch them off for the
//! rest of the message.
//!
//! The value of a match is an action and optional text, compared without regard to case:
//! REJECT (with an optional status code and text), WARN, INFO, FILTER transport:nexthop,
//! PASS, DISCARD, HOLD, PREPEND text, REPLACE text, REDIRECT user@domain, BCC user@domain,
//! STRIP, IGNORE, DUNNO and OK. Each action that does something is logged in Postfix's
//! form (`QUEUEID: reject: header Subject: ... from host[addr]; from=<...> to=<...>
//! proto=ESMTP helo=<...>: 5.7.1 text`) and noted as a decision.

use crate::out::QueueSink;
use crate::state::{State, attr};
use global::cleanup_user::{
    FLAG_DISCARD, FLAG_FILTER, FLAG_HOLD, FLAG_MILTER, STAT_CONT, STAT_DEFER,
};
use global::dsn_util::dsn_prepend;
use global::header_body_checks::{action_text_ok, clip, split_action};
use global::maps::Maps;
use global::record::rec_type;
use rfc822::mime::HeaderClass;
use util::eight_bit;

/// Header/body checks and Milters (`CLEANUP_FLAG_FILTER_ALL`).
const FLAG_FILTER_ALL: u32 = FLAG_FILTER | FLAG_MILTER;

/// What is being checked, as the log line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// A header (`CLEANUP_ACT_CTXT_HEADER`).
    Header,
    /// A body line (`CLEANUP_ACT_CTXT_BODY`).
    Body,
    /// Any content record (`CLEANUP_ACT_CTXT_ANY`), for message_reject_characters.
    Content,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Header => "header",
            Context::Body => "body",
            Context::Content => "content",
        }
    }
}

/// What becomes of the checked text.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It is written as it is.
    Keep,
    /// It is not written (IGNORE, STRIP).
    Drop,
    /// This text is written instead (REPLACE).
    Replace(String),
}

impl<W: QueueSink> State<'_, W> {
    /// Looks a header up in the checks for its class, and acts on a match.
    pub fn check_header(&mut self, class: HeaderClass, header: &[u8]) -> Outcome {
        let tables = &self.settings.tables;
        let checks = match class {
            HeaderClass::Primary => &tables.header_checks,
            HeaderClass::Multipart => &tables.mimehdr_checks,
            HeaderClass::Nested => &tables.nesthdr_checks,
        };
        match checks {
            Some(maps) if self.flags & FLAG_FILTER != 0 => {
                self.check(maps, Context::Header, header)
            }
            _ => Outcome::Keep,
        }
    }

    /// Looks a body line at `offset` in the body up in body_checks, and acts on a match.
    pub fn check_body(&mut self, line: &[u8], offset: u64) -> Outcome {
        let settings = self.settings;
        let limit = settings.body_check_len;
        match &settings.tables.body_checks {
            Some(maps) if self.flags & FLAG_FILTER != 0 && (limit == 0 || offset < limit) => {
                self.check(maps, Context::Body, line)
            }
            _ => Outcome::Keep,
        }
    }

    /// One lookup and its action.
    fn check(&mut self, maps: &Maps, context: Context, text: &[u8]) -> Outcome {
        let text = eight_bit::to_text(text);
        match maps.find(&text, false) {
            Ok(Some(value)) => self.act(context, &text, &value, maps.title()),
            Ok(None) => Outcome::Keep,
            Err(_) => {
                self.lookup_problem(maps.title(), None);
                Outcome::Keep
            }
        }
    }

    /// Carries out `value`, the action a check of `text` found in table list
    /// `map_class` (`cleanup_act`).
    pub fn act(&mut self, context: Context, text: &str, value: &str, map_class: &str) -> Outcome {
        let (command, optional) = split_action(value);
        let command = command.to_ascii_uppercase();
        match command.as_str() {
            "REJECT" => {
                let mut reason = if optional.is_empty() {
                    let detail = global::cleanup_user::cleanup_stat_detail(STAT_CONT);
                    dsn_prepend(detail.dsn, detail.text)
                } else {
                    dsn_prepend("5.7.1", optional)
                };
                if !reason.starts_with(['4', '5']) {
                    log::msg_warn!("bad DSN action in {optional} -- need 4.x.x or 5.x.x");
                    reason.replace_range(..1, "4");
                }
                self.errs |= if reason.starts_with('4') {
                    STAT_DEFER
                } else {
                    STAT_CONT
                };
                self.flags &= !FLAG_FILTER_ALL;
                self.act_log(map_class, "reject", context, text, &reason);
                self.reason = Some(reason);
            }
            "WARN" => self.act_log(map_class, "warning", context, text, optional),
            "INFO" => self.act_log(map_class, "info", context, text, optional),
            "FILTER" => {
                if optional.is_empty() {
                    log::msg_warn!("missing FILTER command argument in {map_class} map");
                } else if !optional.contains(':') {
                    log::msg_warn!(
                        "bad FILTER command {optional} in {map_class} -- need transport:destination"
                    );
                } else {
                    self.filter = Some(optional.to_string());
                    self.act_log(map_class, "filter", context, text, optional);
                }
            }
            "PASS" => {
                self.act_log(map_class, "pass", context, text, optional);
                self.flags &= !FLAG_FILTER_ALL;
            }
            "DISCARD" => {
                self.act_log(map_class, "discard", context, text, optional);
                self.flags |= FLAG_DISCARD;
                self.flags &= !FLAG_FILTER_ALL;
            }
            "HOLD" => {
                if self.flags & (FLAG_HOLD | FLAG_DISCARD) == 0 {
                    self.act_log(map_class, "hold", context, text, optional);
                    self.flags |= FLAG_HOLD;
                }
            }
            "PREPEND" => self.prepend(context, text, optional, map_class),
            "REPLACE" => {
                if action_text_ok("REPLACE", context == Context::Header, optional, map_class) {
                    self.act_log(map_class, "replace", context, text, optional);
                    return Outcome::Replace(optional.to_string());
                }
            }
            "REDIRECT" => {
                if !optional.contains('@') {
                    log::msg_warn!(
                        "bad REDIRECT target \"{optional}\" in {map_class} map -- need user@domain"
                    );
                } else {
                    self.redirect = Some(optional.to_string());
                    self.act_log(map_class, "redirect", context, text, optional);
                    self.flags &= !FLAG_FILTER_ALL;
                }
            }
            "BCC" => {
                if !optional.contains('@') {
                    log::msg_warn!(
                        "bad BCC address \"{optional}\" in {map_class} map -- need user@domain"
                    );
                } else {
                    self.hbc_rcpt.push(optional.to_string());
                    self.act_log(map_class, "bcc", context, text, optional);
                }
            }
            "STRIP" => {
                self.act_log(map_class, "strip", context, text, optional);
                return Outcome::Drop;
            }
            "IGNORE" => return Outcome::Drop,
            "DUNNO" | "OK" => {}
            _ => log::msg_warn!("unknown command in {map_class} map: {value}"),
        }
        Outcome::Keep
    }

    /// PREPEND: a header goes before the header that matched, a line before the line.
    fn prepend(&mut self, context: Context, text: &str, optional: &str, map_class: &str) {
        let header = context == Context::Header;
        if !action_text_ok("PREPEND", header, optional, map_class) {
            return;
        }
        if header {
            self.act_log(map_class, "prepend", context, text, optional);
            self.out_header(&eight_bit::to_bytes(optional));
        } else {
            self.act_log(map_class, "prepend", context, text, optional);
            self.out(rec_type::NORM, &eight_bit::to_bytes(optional));
        }
    }

    /// Logs an action with what it matched and the message's context
    /// (`cleanup_act_log`), and notes the decision.
    fn act_log(
        &mut self,
        map_class: &str,
        action: &str,
        context: Context,
        content: &str,
        text: &str,
    ) {
        let origin = self
            .attr
            .get(attr::LOG_ORIGIN)
            .map_or("unknown", String::as_str);
        let mut line = format!(
            "{}: {action}: {} {} from {origin};",
            self.queue_id,
            context.name(),
            clip(content, 200)
        );
        if self.sender.is_some() {
            line.push_str(&format!(" from=<{}>", self.logged_sender()));
        }
        if self.recip.is_some() {
            line.push_str(&format!(" to=<{}>", self.logged_recip()));
        }
        if let Some(proto) = self.attr.get(attr::LOG_PROTO_NAME) {
            line.push_str(&format!(" proto={proto}"));
        }
        if let Some(helo) = self.attr.get(attr::LOG_HELO_NAME) {
            line.push_str(&format!(" helo=<{helo}>"));
        }
        if !text.is_empty() {
            line.push_str(&format!(": {text}"));
        }
        // The log crate shows control characters (the newline of a folded header) and
        // bytes that are not UTF-8 as '?', as Postfix's logger does.
        log::msg_info!("{line}");
        let result = if text.is_empty() {
            action.to_string()
        } else {
            format!("{action} {text}")
        };
        self.decisions
            .note(&self.queue_id, map_class, content, &result);
    }
}
