//! The date in RFC 5322 form, for Received: and Date: headers.
//!
//! Postfix counterpart: `global/mail_date.c`. The form is Postfix's exactly:
//! `Sun,  1 Nov 2026 05:14:56 +0100 (CET)`: the day of the month is padded with a space
//! (strftime's `%e`), the offset is signed hours and minutes, the zone name follows in
//! parentheses.

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `when` (seconds since the epoch) in local time, as Postfix writes dates in headers.
pub fn mail_date(when: i64) -> String {
    let lt = sys::localtime(when);
    let offset_minutes = lt.utc_offset / 60;
    format!(
        "{}, {:2} {} {} {:02}:{:02}:{:02} {}{:02}{:02} ({})",
        DAYS[lt.weekday as usize % 7],
        lt.day,
        MONTHS[lt.month as usize % 12],
        lt.year,
        lt.hour,
        lt.minute,
        lt.second,
        if offset_minutes < 0 { '-' } else { '+' },
        offset_minutes.abs() / 60,
        offset_minutes.abs() % 60,
        sys::time_zone_name(when)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_strftime() {
        // What Postfix's strftime("%a, %e %b %Y %H:%M:%S ") plus offset and zone gives,
        // from date(1) in the same time zone; one date in winter, one in summer, one with
        // a single-digit day.
        for when in [1_793_510_096i64, 1_783_000_000, 1_770_000_000] {
            let out = std::process::Command::new("date")
                .arg(format!("--date=@{when}"))
                .arg("+%a, %e %b %Y %H:%M:%S %z (%Z)")
                .output()
                .unwrap();
            let expected = String::from_utf8(out.stdout).unwrap();
            assert_eq!(mail_date(when), expected.trim_end());
        }
    }
}
