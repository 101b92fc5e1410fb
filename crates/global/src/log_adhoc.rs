//! The one delivery status log line: `QUEUEID: to=<...>, orig_to=<...>, relay=...,
//! delay=..., delays=a/b/c/d, dsn=X.Y.Z, status=... (...)`.
//!
//! Postfix counterparts: `global/log_adhoc.c` and `util/format_tv.c`. Every status that
//! is logged (sent, deferred, bounced, an address probe's answer) goes through here, from
//! cleanup, the queue manager's error transports and every delivery agent. `delay` is
//! the whole time since arrival; `delays` splits it: before the active queue, in the
//! active queue, connection set-up, and transmission. A time stamp that is missing means
//! that stage did not happen, and the time until now goes to the last stage that did.
//! Times have two significant digits and at most `delay_logging_resolution_limit`
//! digits after the point.

use crate::dsn_print::Dsn;
use crate::info_log_addr_form::AddrForm;
use crate::msg_stats::{MsgStats, Tv};
use crate::rcpt_print::Recipient;
use rfc822::quote::{QuoteFlags, quote_822_local_into};

/// How the line is written (`info_log_address_format`, `delay_logging_resolution_limit`).
#[derive(Debug, Clone, Copy)]
pub struct LogForm {
    /// How addresses appear.
    pub addr_form: AddrForm,
    /// Digits after the decimal point, at most.
    pub delay_max_res: u32,
}

impl LogForm {
    /// The settings in main.cf.
    pub fn from_config(config: &params::Config) -> Result<LogForm, params::ConfigError> {
        let addr_form = AddrForm::from_config(config).map_err(|message| params::ConfigError {
            warnings: Vec::new(),
            message,
        })?;
        let res = config.int(&params::decl::cleanup::DELAY_LOGGING_RESOLUTION_LIMIT)?;
        Ok(LogForm {
            addr_form,
            delay_max_res: res.clamp(0, 6) as u32,
        })
    }
}

/// Logs `status` (`sent`, `deferred`, `bounced`, `deliverable`...) for `rcpt` of message
/// `id`, delivered through `relay`.
pub fn log_adhoc(
    form: &LogForm,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
    status: &str,
) {
    let line = format_line(
        form,
        id,
        stats,
        rcpt,
        relay,
        dsn,
        status,
        crate::msg_stats::now(),
    );
    // The line is complete: hand it to the sinks as it is, not through format_args!,
    // which would copy it once more.
    log::write(log::Severity::Info, &line);
}

/// The line, with `now` for a delivery that has no completion time stamp.
///
/// Built by pushes into one string sized for a typical line: this runs once per
/// recipient in every agent, and `format!` per field cost more than the rest of the
/// status step.
fn format_line(
    form: &LogForm,
    id: &str,
    stats: &MsgStats,
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
    status: &str,
    now: Tv,
) -> String {
    let mut line = String::with_capacity(
        160 + id.len()
            + 2 * rcpt.address.len()
            + rcpt.orig_addr.len()
            + relay.len()
            + dsn.status.len()
            + dsn.reason.len(),
    );
    line.push_str(id);
    line.push_str(": to=<");
    push_addr(&mut line, form.addr_form, &rcpt.address);
    line.push('>');
    if !rcpt.orig_addr.is_empty() && !same_casefolded(&rcpt.orig_addr, &rcpt.address) {
        line.push_str(", orig_to=<");
        push_addr(&mut line, form.addr_form, &rcpt.orig_addr);
        line.push('>');
    }
    line.push_str(", relay=");
    line.push_str(relay);
    if stats.reuse_count > 0 {
        line.push_str(", conn_use=");
        push_decimal(&mut line, i64::from(stats.reuse_count) + 1);
    }
    let stamped = |tv: Tv| tv.0 > 0;
    let now = if stamped(stats.deliver_done) {
        stats.deliver_done
    } else {
        now
    };
    let delay = delta(now, stats.incoming_arrival);
    let (mut adelay, mut sdelay, mut xdelay) = ((0, 0), (0, 0), (0, 0));
    let pdelay;
    if stamped(stats.active_arrival) {
        pdelay = delta(stats.active_arrival, stats.incoming_arrival);
        if stamped(stats.agent_handoff) {
            adelay = delta(stats.agent_handoff, stats.active_arrival);
            if stamped(stats.conn_setup_done) {
                sdelay = delta(stats.conn_setup_done, stats.agent_handoff);
                xdelay = delta(now, stats.conn_setup_done);
            } else {
                xdelay = delta(now, stats.agent_handoff);
            }
        } else {
            adelay = delta(now, stats.active_arrival);
        }
    } else {
        pdelay = delta(now, stats.incoming_arrival);
    }
    let res = form.delay_max_res;
    line.push_str(", delay=");
    push_tv(&mut line, delay.0, delay.1, 2, res);
    line.push_str(", delays=");
    for (i, tv) in [pdelay, adelay, sdelay, xdelay].into_iter().enumerate() {
        if i > 0 {
            line.push('/');
        }
        push_tv(&mut line, tv.0, tv.1, 2, res);
    }
    line.push_str(", dsn=");
    line.push_str(&dsn.status);
    line.push_str(", status=");
    line.push_str(status);
    line.push_str(" (");
    line.push_str(&dsn.reason);
    line.push(')');
    line
}

/// Appends `addr` (internal form) as `form` logs it (see [`AddrForm::format`]), quoting
/// straight into `line`.
fn push_addr(line: &mut String, form: AddrForm, addr: &str) {
    match form {
        AddrForm::External if !addr.is_empty() => {
            quote_822_local_into(line, addr, QuoteFlags::EIGHT_BIT_CLEAN | QuoteFlags::APPEND)
        }
        _ => line.push_str(addr),
    }
}

/// Whether two addresses are equal once case-folded (Postfix compares orig_to with the
/// recipient that way). ASCII, nearly every address, is compared in place; anything else
/// takes the full Unicode fold, where e.g. the Kelvin sign folds to an ASCII 'k'.
fn same_casefolded(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        dict::casefold(a) == dict::casefold(b)
    }
}

/// Appends a number in decimal, without a `String` of its own.
fn push_decimal(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    out.push_str(log::decimal::decimal(value.unsigned_abs(), &mut digits));
}

/// `later - earlier`, never negative (a clock that jumped back gives 0).
fn delta(later: Tv, earlier: Tv) -> Tv {
    let mut sec = later.0 - earlier.0;
    let mut usec = later.1 - earlier.1;
    while usec < 0 {
        usec += 1_000_000;
        sec -= 1;
    }
    while usec >= 1_000_000 {
        usec -= 1_000_000;
        sec += 1;
    }
    if sec < 0 { (0, 0) } else { (sec, usec) }
}

/// A time as text with `sig_dig` significant digits and at most `max_dig` decimals,
/// rounded, without trailing zeros (`format_tv`).
pub fn format_tv(sec: i64, usec: i64, sig_dig: u32, max_dig: u32) -> String {
    let mut out = String::new();
    push_tv(&mut out, sec, usec, sig_dig, max_dig);
    out
}

/// [`format_tv`], appended to `out`.
fn push_tv(out: &mut String, mut sec: i64, mut usec: i64, sig_dig: u32, max_dig: u32) {
    const MILLION: i64 = 1_000_000;
    let max_dig = max_dig.min(6);
    let mut ures = MILLION / 10i64.pow(max_dig);
    let wid = 10i64.pow(sig_dig.clamp(1, 6));
    // Fewer decimals for larger numbers: only the significant digits count.
    if ures < MILLION {
        if sec > 0 {
            let mut n = 1;
            while sec >= n && n <= wid / 10 {
                n *= 10;
            }
            ures = (MILLION / wid) * n;
        } else {
            while usec >= wid * ures {
                ures *= 10;
            }
        }
    }
    if ures > 1 {
        usec += ures / 2;
        if usec >= MILLION {
            sec += 1;
            usec -= MILLION;
        }
    }
    push_decimal(out, sec);
    if usec >= ures {
        out.push('.');
        let (mut rem, mut n) = (usec, MILLION / 10);
        while rem >= ures && n > 0 {
            out.push(char::from(b'0' + (rem / n) as u8));
            rem %= n;
            n /= 10;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_two_significant_digits() {
        assert_eq!(format_tv(0, 0, 2, 2), "0");
        assert_eq!(format_tv(0, 12_345, 2, 2), "0.01");
        assert_eq!(format_tv(0, 4_000, 2, 2), "0");
        assert_eq!(format_tv(0, 123_456, 2, 2), "0.12");
        assert_eq!(format_tv(1, 234_567, 2, 2), "1.2");
        assert_eq!(format_tv(12, 500_000, 2, 2), "13");
        assert_eq!(format_tv(0, 999_999, 2, 2), "1");
        assert_eq!(format_tv(0, 1_234, 2, 6), "0.0012");
        assert_eq!(format_tv(123, 456_789, 2, 2), "123");
        assert_eq!(format_tv(9, 960_000, 2, 2), "10");
    }

    fn form() -> LogForm {
        LogForm {
            addr_form: AddrForm::External,
            delay_max_res: 2,
        }
    }

    fn rcpt(orig: &str, address: &str) -> Recipient {
        Recipient {
            orig_addr: orig.into(),
            address: address.into(),
            ..Recipient::default()
        }
    }

    #[test]
    fn a_delivery_agent_line() {
        let stats = MsgStats {
            incoming_arrival: (100, 0),
            active_arrival: (100, 250_000),
            agent_handoff: (101, 0),
            ..MsgStats::default()
        };
        let dsn = Dsn::simple("2.0.0", "delivered to maildir");
        let line = format_line(
            &form(),
            "4ABC",
            &stats,
            &rcpt("Alias@example.com", "user@example.com"),
            "local",
            &dsn,
            "sent",
            (101, 30_000),
        );
        assert_eq!(
            line,
            "4ABC: to=<user@example.com>, orig_to=<Alias@example.com>, relay=local, \
             delay=1, delays=0.25/0.75/0/0.03, dsn=2.0.0, status=sent (delivered to maildir)"
        );
    }

    #[test]
    fn no_orig_to_when_equal_but_for_case_and_no_agent_stages() {
        let stats = MsgStats {
            incoming_arrival: (100, 0),
            ..MsgStats::default()
        };
        let dsn = Dsn::simple("5.1.1", "unknown");
        let line = format_line(
            &form(),
            "X",
            &stats,
            &rcpt("A@Example.com", "a@example.com"),
            "none",
            &dsn,
            "bounced",
            (99, 0),
        );
        assert_eq!(
            line,
            "X: to=<a@example.com>, relay=none, delay=0, delays=0/0/0/0, dsn=5.1.1, \
             status=bounced (unknown)"
        );
    }

    #[test]
    fn a_relayed_line_with_every_stage_and_a_reused_connection() {
        let stats = MsgStats {
            incoming_arrival: (100, 0),
            active_arrival: (100, 500_000),
            agent_handoff: (100, 600_000),
            conn_setup_done: (101, 0),
            deliver_done: (112, 340_000),
            reuse_count: 2,
        };
        let dsn = Dsn::simple("2.0.0", "250 2.0.0 Ok: queued as 4XYZ");
        let line = format_line(
            &form(),
            "4ABC",
            &stats,
            &rcpt("", "a b@example.com"),
            "mx.example.com[192.0.2.1]:25",
            &dsn,
            "sent",
            // Not used: the delivery has its own completion time.
            (500, 0),
        );
        assert_eq!(
            line,
            "4ABC: to=<\"a b\"@example.com>, relay=mx.example.com[192.0.2.1]:25, conn_use=3, \
             delay=12, delays=0.5/0.1/0.4/11, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XYZ)"
        );
    }

    #[test]
    fn orig_to_is_compared_case_folded_and_the_internal_form_is_not_quoted() {
        let stats = MsgStats {
            incoming_arrival: (100, 0),
            ..MsgStats::default()
        };
        let dsn = Dsn::simple("2.0.0", "ok");
        let internal = LogForm {
            addr_form: AddrForm::Internal,
            delay_max_res: 2,
        };
        let line = |form: &LogForm, orig: &str, address: &str| {
            let line = format_line(
                form,
                "X",
                &stats,
                &rcpt(orig, address),
                "local",
                &dsn,
                "sent",
                (100, 0),
            );
            line.split(", relay=").next().unwrap().to_string()
        };
        // The Kelvin sign folds to an ASCII 'k'.
        assert_eq!(
            line(&form(), "\u{212a}IM@Example.com", "kim@example.com"),
            "X: to=<kim@example.com>"
        );
        assert_eq!(
            line(&form(), "K\u{f6}@example.com", "k\u{d6}@example.com"),
            "X: to=<k\u{d6}@example.com>"
        );
        assert_eq!(
            line(&form(), "x y@example.com", "z@example.com"),
            "X: to=<z@example.com>, orig_to=<\"x y\"@example.com>"
        );
        assert_eq!(
            line(&internal, "x y@example.com", "z w@example.com"),
            "X: to=<z w@example.com>, orig_to=<x y@example.com>"
        );
    }
}
