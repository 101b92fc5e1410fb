//! The two listings of the showq stream: mailq's columns and JSON lines.
//!
//! Postfix counterparts: `postqueue/showq_compat.c` and `postqueue/showq_json.c`. The
//! stream is a sequence of messages, each a list of message attributes (queue, ID, time,
//! size, forced-expire, sender) followed by (recipient, reason) pairs, the pairs ended by
//! an empty attribute name; an empty name where a message would start ends the listing.
//! Attribute values are made printable before use, as Postfix's reader does.

use std::io::{BufRead, Write};

/// The showq stream ran off the rails.
#[derive(Debug)]
pub struct Malformed;

/// A reader of showq's attribute lists, which have no terminators between their parts.
pub struct Stream<R: BufRead> {
    input: R,
    utf8: bool,
}

impl<R: BufRead> Stream<R> {
    /// Reads from `input`; `utf8` says whether UTF-8 text is printable.
    pub fn new(input: R, utf8: bool) -> Stream<R> {
        Stream { input, utf8 }
    }

    /// True if another attribute list follows; false (consuming it) at a terminator
    /// (Postfix's `attr_scan_more`).
    pub fn more(&mut self) -> Result<bool, Malformed> {
        let buf = self.input.fill_buf().map_err(|_| Malformed)?;
        match buf.first() {
            None => Err(Malformed),
            Some(0) => {
                self.input.consume(1);
                Ok(false)
            }
            Some(_) => Ok(true),
        }
    }

    /// Reads exactly the attributes `names`, in that order, without a terminator.
    pub fn scan(&mut self, names: &[&str]) -> Result<Vec<String>, Malformed> {
        let mut values = Vec::with_capacity(names.len());
        for name in names {
            if self.field()? != name.as_bytes() {
                return Err(Malformed);
            }
            let value = self.field()?;
            if log::verbose() > 0 {
                log::msg_info!("input attribute name: {name}");
            }
            values.push(global::queue_read::printable(&value, self.utf8));
        }
        Ok(values)
    }

    /// Reads the announcement and the terminator after it.
    pub fn protocol(&mut self, expect: &str) -> Result<(), Malformed> {
        let got = self.scan(&[ipc::mail_attr::PROTO])?;
        if got[0] != expect || self.more()? {
            return Err(Malformed);
        }
        Ok(())
    }

    fn field(&mut self) -> Result<Vec<u8>, Malformed> {
        let mut field = Vec::new();
        match self.input.read_until(0, &mut field) {
            Ok(_) if field.last() == Some(&0) => {
                field.pop();
                Ok(field)
            }
            _ => Err(Malformed),
        }
    }
}

const MESSAGE: [&str; 6] = [
    "queue_name",
    "queue_id",
    "time",
    "size",
    "forced_expire",
    "sender",
];
const RECIPIENT: [&str; 2] = ["recipient", "reason"];

/// What a write error means: a reader that went away (`postqueue -p | head`) ends the
/// listing quietly; anything else is fatal.
fn written(result: std::io::Result<()>) -> bool {
    match result {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => false,
        Err(e) => log::msg_fatal!("output write error: {}", sys::os_error(&e)),
    }
}

/// One message in mailq's layout; returns its size.
fn compat_message<R: BufRead>(
    showq: &mut Stream<R>,
    out: &mut impl Write,
    long_ids: bool,
) -> Result<i64, Malformed> {
    let m = showq.scan(&MESSAGE)?;
    let arrival: i64 = m[2].parse().map_err(|_| Malformed)?;
    let size: i64 = m[3].parse().map_err(|_| Malformed)?;
    let forced: i32 = m[4].parse().map_err(|_| Malformed)?;
    let mut id_status = m[1].clone();
    if m[0] == global::mail_queue::ACTIVE {
        id_status.push('*');
    } else if m[0] == global::mail_queue::HOLD {
        id_status.push('!');
    }
    if forced != 0 {
        id_status.push('#');
    }
    // The arrival time is asctime's without the year: %20.20s / %19.19s cut it.
    let when = global::queue_read::asctime(arrival);
    let mut text = if long_ids {
        format!("{:<17} {:>8} {:>19.19} {}\n", id_status, size, when, m[5])
    } else {
        format!("{:<11} {:>7} {:>20.20} {}\n", id_status, size, when, m[5])
    };
    let mut saved_reason = String::new();
    while showq.more()? {
        let r = showq.scan(&RECIPIENT)?;
        // A reason line only when it changes; "reason unavailable" when a recipient
        // after one with a reason has none.
        if r[1] != saved_reason {
            saved_reason = r[1].clone();
            let shown = if saved_reason.is_empty() {
                "reason unavailable"
            } else {
                &saved_reason
            };
            let padding = 76usize.saturating_sub(shown.len());
            text.push_str(&format!("{:padding$}({shown})\n", ""));
        }
        if long_ids {
            text.push_str(&format!("{:<17} {:>8} {:<19} {}\n", "", "", "", r[0]));
        } else {
            text.push_str(&format!("{:<11} {:>7} {:<20} {}\n", "", "", "", r[0]));
        }
    }
    let _ = out.write_all(text.as_bytes());
    Ok(size)
}

/// The whole listing in mailq's layout.
pub fn compat<R: BufRead>(
    showq: &mut Stream<R>,
    out: &mut impl Write,
    long_ids: bool,
) -> Result<(), Malformed> {
    let mut file_count: u64 = 0;
    let mut queue_size: u64 = 0;
    while showq.more()? {
        let heading = if file_count > 0 {
            "\n".to_string()
        } else if long_ids {
            format!(
                "{:<17} {:>8} {:<19} {}\n",
                "----Queue ID-----", "--Size--", "---Arrival Time----", "--Sender/Recipient------"
            )
        } else {
            format!(
                "{:<11} {:>7} {:<20} {}\n",
                "-Queue ID-", "--Size--", "----Arrival Time----", "-Sender/Recipient-------"
            )
        };
        let _ = out.write_all(heading.as_bytes());
        queue_size = queue_size.wrapping_add(compat_message(showq, out, long_ids)? as u64);
        file_count += 1;
        if !written(out.flush()) {
            return Ok(());
        }
    }
    let summary = if file_count == 0 {
        "Mail queue is empty\n".to_string()
    } else {
        format!(
            "\n-- {} Kbytes in {} Request{}.\n",
            queue_size / 1024,
            file_count,
            if file_count == 1 { "" } else { "s" }
        )
    };
    let _ = out.write_all(summary.as_bytes());
    written(out.flush());
    Ok(())
}

/// `text` as a JSON string body (Postfix's `json_quote`): the short escapes for common
/// control characters, `\u00XX` for the others, `\\` and `\"`.
pub fn json_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            '\\' | '"' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The whole listing as one JSON object per line.
pub fn json<R: BufRead>(showq: &mut Stream<R>, out: &mut impl Write) -> Result<(), Malformed> {
    while showq.more()? {
        let m = showq.scan(&MESSAGE)?;
        let arrival: i64 = m[2].parse().map_err(|_| Malformed)?;
        let size: i64 = m[3].parse().map_err(|_| Malformed)?;
        let forced: i32 = m[4].parse().map_err(|_| Malformed)?;
        let mut text = format!(
            "{{\"queue_name\": \"{}\", \"queue_id\": \"{}\", \"arrival_time\": {arrival}, \
             \"message_size\": {size}, \"forced_expire\": {}, \"sender\": \"{}\", \
             \"recipients\": [",
            json_quote(&m[0]),
            json_quote(&m[1]),
            if forced != 0 { "true" } else { "false" },
            json_quote(&m[5])
        );
        let mut count = 0;
        while showq.more()? {
            let r = showq.scan(&RECIPIENT)?;
            if count > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("{{\"address\": \"{}\"", json_quote(&r[0])));
            if !r[1].is_empty() {
                text.push_str(&format!(", \"delay_reason\": \"{}\"", json_quote(&r[1])));
            }
            text.push('}');
            count += 1;
        }
        text.push_str("]}\n");
        if !written(out.write_all(text.as_bytes()).and_then(|()| out.flush())) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream() -> Vec<u8> {
        let mut s = Vec::new();
        let mut put = |pairs: &[(&str, &str)], end: bool| {
            for (n, v) in pairs {
                s.extend_from_slice(n.as_bytes());
                s.push(0);
                s.extend_from_slice(v.as_bytes());
                s.push(0);
            }
            if end {
                s.push(0);
            }
        };
        put(&[("protocol", "mail_queue_list_protocol")], true);
        put(
            &[
                ("queue_name", "deferred"),
                ("queue_id", "ABC123"),
                ("time", "1770000000"),
                ("size", "2048"),
                ("forced_expire", "0"),
                ("sender", "a@example.org"),
            ],
            false,
        );
        put(
            &[("recipient", "x@example.com"), ("reason", "no \"route\"")],
            false,
        );
        put(&[("recipient", "y@example.com"), ("reason", "")], true);
        put(
            &[
                ("queue_name", "hold"),
                ("queue_id", "DEF456"),
                ("time", "1770000000"),
                ("size", "100"),
                ("forced_expire", "1"),
                ("sender", "MAILER-DAEMON"),
            ],
            false,
        );
        put(&[("recipient", "z@example.com"), ("reason", "")], true);
        s.push(0);
        s
    }

    #[test]
    fn compat_layout() {
        let bytes = stream();
        let mut showq = Stream::new(&bytes[..], true);
        showq.protocol("mail_queue_list_protocol").unwrap();
        let mut out = Vec::new();
        compat(&mut showq, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let when = global::queue_read::asctime(1770000000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
        );
        assert_eq!(
            lines[1],
            format!("ABC123         2048 {} a@example.org", &when[..20])
        );
        assert_eq!(lines[2], format!("{:66}(no \"route\")", ""));
        assert_eq!(lines[3], format!("{:41}x@example.com", ""));
        assert_eq!(lines[4], format!("{:58}(reason unavailable)", ""));
        assert_eq!(lines[6], "");
        assert!(lines[7].starts_with("DEF456!#        100 "), "{text}");
        assert_eq!(lines[10], "-- 2 Kbytes in 2 Requests.");
    }

    #[test]
    fn json_lines() {
        let bytes = stream();
        let mut showq = Stream::new(&bytes[..], true);
        showq.protocol("mail_queue_list_protocol").unwrap();
        let mut out = Vec::new();
        json(&mut showq, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            "{\"queue_name\": \"deferred\", \"queue_id\": \"ABC123\", \"arrival_time\": 1770000000, \
             \"message_size\": 2048, \"forced_expire\": false, \"sender\": \"a@example.org\", \
             \"recipients\": [{\"address\": \"x@example.com\", \"delay_reason\": \"no \\\"route\\\"\"}, \
             {\"address\": \"y@example.com\"}]}"
        );
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn empty_queue_and_broken_stream() {
        let bytes = b"protocol\0mail_queue_list_protocol\0\0\0";
        let mut showq = Stream::new(&bytes[..], true);
        showq.protocol("mail_queue_list_protocol").unwrap();
        let mut out = Vec::new();
        compat(&mut showq, &mut out, false).unwrap();
        assert_eq!(out, b"Mail queue is empty\n");
        let cut = b"protocol\0mail_queue_list_protocol\0\0queue_name\0x";
        let mut showq = Stream::new(&cut[..], true);
        showq.protocol("mail_queue_list_protocol").unwrap();
        assert!(compat(&mut showq, &mut Vec::new(), false).is_err());
    }
}
