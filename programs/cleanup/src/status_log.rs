//! The delivery status log line: `QUEUEID: to=<...>, relay=none, delay=0.02,
//! delays=0.02/0/0/0, dsn=5.7.1, status=bounced (text)`.
//!
//! Postfix counterparts: `global/log_adhoc.c` and `util/format_tv.c`. cleanup logs such a
//! line when it bounces a message itself, or answers an address probe: there is no queue
//! manager or delivery agent involved, so all the delay is before the queue manager
//! (`pdelay`) and the other three parts are zero. Times are shown with two significant
//! digits, and at most `delay_logging_resolution_limit` digits after the point.

use std::time::{SystemTime, UNIX_EPOCH};

/// One recipient of a delivery status (Postfix's `RECIPIENT`).
#[derive(Debug, Clone, Default)]
pub struct Recipient {
    /// The offset of its record in the queue file (0: none).
    pub offset: i64,
    /// DSN ORCPT.
    pub dsn_orcpt: String,
    /// DSN NOTIFY.
    pub dsn_notify: u32,
    /// The address before rewriting.
    pub orig_addr: String,
    /// The address.
    pub address: String,
}

/// A delivery status (Postfix's `DSN` without the remote MTA parts, which cleanup never
/// has).
#[derive(Debug, Clone)]
pub struct Dsn {
    /// `5.7.1` and the like.
    pub status: String,
    /// `failed`, `expanded`, `deliverable`...
    pub action: String,
    /// The text.
    pub reason: String,
}

/// The status line for `rcpt` of message `id`, which arrived at `arrival` (seconds,
/// microseconds), with `status` (`bounced`, `deliverable`...).
pub fn log_adhoc(
    id: &str,
    arrival: (i64, i64),
    rcpt: &Recipient,
    relay: &str,
    dsn: &Dsn,
    status: &str,
    settings: &crate::init::Settings,
) {
    let form = &settings.addr_form;
    let mut line = format!("{id}: to=<{}>", form.format(&rcpt.address));
    if !rcpt.orig_addr.is_empty()
        && dict::casefold(&rcpt.orig_addr) != dict::casefold(&rcpt.address)
    {
        line.push_str(&format!(", orig_to=<{}>", form.format(&rcpt.orig_addr)));
    }
    line.push_str(&format!(", relay={relay}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let delay = delta(
        (now.as_secs() as i64, i64::from(now.subsec_micros())),
        arrival,
    );
    let digits = settings.delay_max_res;
    let zero = format_tv(0, 0, 2, digits);
    let total = format_tv(delay.0, delay.1, 2, digits);
    line.push_str(&format!(
        ", delay={total}, delays={total}/{zero}/{zero}/{zero}, dsn={}, status={status} ({})",
        dsn.status, dsn.reason
    ));
    log::msg_info!("{line}");
}

/// `later - earlier`, never negative.
fn delta(later: (i64, i64), earlier: (i64, i64)) -> (i64, i64) {
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
    use super::format_tv;

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
}
