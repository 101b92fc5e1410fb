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
    log::msg_info!(
        "{}",
        format_line(
            form,
            id,
            stats,
            rcpt,
            relay,
            dsn,
            status,
            crate::msg_stats::now()
        )
    );
}

/// The line, with `now` for a delivery that has no completion time stamp.
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
    let addr = &form.addr_form;
    let mut line = format!("{id}: to=<{}>", addr.format(&rcpt.address));
    if !rcpt.orig_addr.is_empty()
        && dict::casefold(&rcpt.orig_addr) != dict::casefold(&rcpt.address)
    {
        line.push_str(&format!(", orig_to=<{}>", addr.format(&rcpt.orig_addr)));
    }
    line.push_str(&format!(", relay={relay}"));
    if stats.reuse_count > 0 {
        line.push_str(&format!(", conn_use={}", stats.reuse_count + 1));
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
    let pretty = |tv: Tv| format_tv(tv.0, tv.1, 2, form.delay_max_res);
    line.push_str(&format!(
        ", delay={}, delays={}/{}/{}/{}, dsn={}, status={status} ({})",
        pretty(delay),
        pretty(pdelay),
        pretty(adelay),
        pretty(sdelay),
        pretty(xdelay),
        dsn.status,
        dsn.reason
    ));
    line
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
pub fn format_tv(mut sec: i64, mut usec: i64, sig_dig: u32, max_dig: u32) -> String {
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
    let mut out = sec.to_string();
    if usec >= ures {
        out.push('.');
        let (mut rem, mut n) = (usec, MILLION / 10);
        while rem >= ures && n > 0 {
            out.push(char::from(b'0' + (rem / n) as u8));
            rem %= n;
            n /= 10;
        }
    }
    out
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
}
