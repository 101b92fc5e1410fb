//! Reading a defer log: who was deferred and why.
//!
//! Postfix counterpart: `global/bounce_log.c` (`bounce_log_read`). The bounce and defer
//! services append one entry per recipient to `defer/ID`: `name=value` lines
//! (`recipient=`, `offset=`, `status=`, `action=`, `reason=`...) ended by an empty line.
//! Older files have `<recipient>: reason` lines, which are read too. Only the address and
//! the reason matter to showq.

use std::io::BufRead;

/// One entry: the recipient address (printable, as logged) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The address; `(MAILER-DAEMON)` for the null address, a placeholder when missing.
    pub address: String,
    /// Why delivery was deferred; a placeholder when missing.
    pub reason: String,
}

/// The attribute names a defer log entry may carry.
const KNOWN: [&str; 12] = [
    "recipient",
    "original_recipient",
    "dsn_orig_rcpt",
    "notify_flags",
    "offset",
    "status",
    "action",
    "diag_type",
    "diag_text",
    "mta_type",
    "mta_mname",
    "reason",
];

/// Reads the entries of the log at `input`, named `path` in warnings.
pub fn read(input: impl BufRead, path: &str, utf8: bool) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut address = String::new();
    let mut reason = String::new();
    let mut found = false;
    let mut finish = |address: &mut String, reason: &mut String| {
        entries.push(Entry {
            address: if address.is_empty() {
                "(recipient address unavailable)".into()
            } else {
                std::mem::take(address)
            },
            reason: if reason.is_empty() {
                "(description unavailable)".into()
            } else {
                std::mem::take(reason)
            },
        });
    };
    for line in input.split(b'\n') {
        let Ok(line) = line else { break };
        if line.is_empty() {
            if found {
                finish(&mut address, &mut reason);
                found = false;
            }
            continue;
        }
        let text = global::queue_read::printable(&line, utf8);
        found = true;
        if text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            let (name, value) = match util::name_value::split(&text) {
                Ok(pair) => pair,
                Err(why) => {
                    log::msg_warn!("{path}: malformed record: {why}");
                    continue;
                }
            };
            match name {
                "recipient" => {
                    address = if value.is_empty() {
                        "(MAILER-DAEMON)".into()
                    } else {
                        value.to_string()
                    }
                }
                "reason" => reason = value.to_string(),
                _ if KNOWN.contains(&name) => {}
                _ => log::msg_warn!("{path}: unknown attribute name: {name}, ignored"),
            }
            continue;
        }
        // The old format: <recipient>: reason.
        let Some(rest) = text.strip_prefix('<') else {
            let shown: String = text.chars().take(30).collect();
            log::msg_warn!("{path}: malformed record: {shown}...");
            continue;
        };
        let Some(end) = rest.find(">: ") else {
            let shown: String = text.chars().take(30).collect();
            log::msg_warn!("{path}: malformed record: {shown}...");
            continue;
        };
        address = if end == 0 {
            "(MAILER-DAEMON)".into()
        } else {
            rest[..end].to_string()
        };
        reason = rest[end + 2..]
            .trim_start_matches(util::name_value::is_space)
            .to_string();
    }
    // An entry needs its blank line: one cut short at the end of the file is not read.
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_and_old_formats() {
        let log = "recipient=a@example.com\noffset=300\nstatus=4.4.1\naction=delayed\n\
                   reason=connect to example.com[192.0.2.1]:25: Connection refused\n\n\
                   <b@example.com>: host said no\n\n\
                   recipient=\nstatus=4.0.0\n\n\
                   recipient=cut@example.com\n";
        let entries = read(log.as_bytes(), "defer/X", true);
        assert_eq!(
            entries,
            vec![
                Entry {
                    address: "a@example.com".into(),
                    reason: "connect to example.com[192.0.2.1]:25: Connection refused".into()
                },
                Entry {
                    address: "b@example.com".into(),
                    reason: "host said no".into()
                },
                Entry {
                    address: "(MAILER-DAEMON)".into(),
                    reason: "(description unavailable)".into()
                },
            ]
        );
    }
}
