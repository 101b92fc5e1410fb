//! What the delivery agents' differential tests (t-26 virtual, t-27 local, t-28 pipe,
//! t-46 home_mailbox) compare: delivered text with what differs between runs replaced,
//! and maildir file names reduced to their form after checking it is Postfix's; and what
//! the SMTP and LMTP client tests (t-36, t-47, t-48) compare of the bounce notices.
//!
//! Postfix counterpart of the name form: the new/ file name that `local/maildir.c` and
//! `virtual/maildir.c` give a message: the delivery's start time (seconds, then
//! microseconds after `M`), the file's device and inode in hex, and the host name.

use crate::Instance;

/// `text` (a message, a mailbox, a command's input or arguments) with what differs
/// between runs replaced: the queue IDs `ids`, the instance directory, dates (Date:,
/// the delivery reports' Arrival-Date: and Last-Attempt-Date:, a Received: header's
/// continuation line, the From_ line), Message-Id and each run of eight or more digits
/// (time stamps in Message-IDs and MIME boundaries; the From_ line's year is shorter).
/// Each line ends with a newline.
pub fn normalise(mx: &Instance, ids: &[String], text: &str) -> String {
    let dir = mx.dir.display().to_string();
    text.lines()
        .map(|line| {
            let mut line = line.to_string();
            for id in ids {
                line = line.replace(id.as_str(), "QUEUEID");
            }
            let line = without_long_numbers(&line.replace(&dir, "DIR"));
            let dated = ["Date:", "Arrival-Date:", "Last-Attempt-Date:"];
            let line = if let Some(d) = dated.iter().find(|d| line.starts_with(*d)) {
                format!("{d} DATE")
            } else if line.starts_with('\t') && line.contains("; ") {
                // A Received: header's last line: `\tid QUEUEID; date` or `\tfor <x>; date`.
                line.split("; ").next().unwrap_or("").to_string() + "; DATE"
            } else if line.starts_with("Message-Id: ") {
                "Message-Id: ID".into()
            } else if line.starts_with("From ") && line.contains("  ") {
                // The From_ line (`From sender  date`; a body line has no double space
                // here): the sender stays, the date goes.
                line.split("  ").next().unwrap_or("").to_string() + "  DATE"
            } else {
                line
            };
            line + "\n"
        })
        .collect()
}

/// `text` with each run of eight or more digits replaced by `N`.
fn without_long_numbers(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().map(Some).chain([None]) {
        if let Some(d) = c.filter(char::is_ascii_digit) {
            digits.push(d);
            continue;
        }
        out.push_str(if digits.len() >= 8 { "N" } else { &digits });
        digits.clear();
        out.extend(c);
    }
    out
}

/// The lines of the bounce notices in `mailbox` that tell what happened to each
/// recipient (the text part's `<address>` line, Action:, Status:, Remote-MTA:,
/// Diagnostic-Code:, and lines starting with one of `extra`), each through `normalise`,
/// sorted: notices of parallel deliveries arrive in any order.
pub fn notice_lines(
    mailbox: &[String],
    extra: &[&str],
    normalise: impl Fn(&str) -> String,
) -> Vec<String> {
    let fields = ["Remote-MTA:", "Diagnostic-Code:", "Status:", "Action:", "<"];
    let mut lines: Vec<String> = mailbox
        .iter()
        .flat_map(|m| m.lines())
        .filter(|l| fields.iter().chain(extra).any(|f| l.starts_with(f)))
        .map(normalise)
        .collect();
    lines.sort();
    lines
}

/// A maildir file name reduced to its form, after checking it is Postfix's:
/// `SECONDS.VdevIinoMusec.HOST`.
pub fn maildir_name_form(name: &str) -> String {
    let parts: Vec<&str> = name.splitn(3, '.').collect();
    let hex = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit());
    let unique = parts.get(1).copied().unwrap_or("");
    let ok = parts.len() == 3
        && parts[0].chars().all(|c| c.is_ascii_digit())
        && unique.strip_prefix('V').is_some_and(|rest| {
            let (dev, rest) = rest.split_once('I').unwrap_or(("", ""));
            let (ino, usec) = rest.split_once('M').unwrap_or(("", ""));
            hex(dev) && hex(ino) && !usec.is_empty() && usec.chars().all(|c| c.is_ascii_digit())
        });
    assert!(ok, "maildir file name {name}");
    format!("SECONDS.VdevIinoMusec.{}", parts[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_names_reduce_to_their_form() {
        assert_eq!(
            maildir_name_form("1733500000.V801I2a3fM123456.mail.e2e.test"),
            "SECONDS.VdevIinoMusec.mail.e2e.test"
        );
    }

    #[test]
    #[should_panic(expected = "maildir file name")]
    fn other_names_are_refused() {
        maildir_name_form("1733500000.P1234Q1.mail.e2e.test");
    }

    #[test]
    fn long_numbers_go() {
        assert_eq!(
            without_long_numbers("<20261206140000.1A2B@x> 2026 123456789"),
            "<N.1A2B@x> 2026 N"
        );
    }
}
