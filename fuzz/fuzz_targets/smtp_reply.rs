//! Fuzz target: server replies as the SMTP client reads them, and EHLO replies
//! (crates/smtp-proto server_reply.rs: Postfix's smtp_chat_resp() and the EHLO loop of
//! smtp_helo()). Any bytes a server sends, cut into lines, never make it panic, and:
//! - a cleaned line has no control character;
//! - the lines of a reply are read up to the first last line, and line_kind agrees
//!   with the line's shape;
//! - the reply's text is its lines joined; its code is the last line's three digits
//!   (0 without them); its status is a valid code of the reply's class, `X.0.0`, or
//!   5.5.0 for a reply without a 2xx, 4xx or 5xx code;
//! - an EHLO keyword is a non-empty word of its line without delimiters, its
//!   parameters and their words come from the same line.
//!
//! Input: the server's bytes; lines end at '\n' (a '\r' before it is dropped).
#![no_main]

use global::dsn_util::dsn_valid;
use libfuzzer_sys::fuzz_target;
use smtp_proto::server_reply::{LineKind, ehlo_lines, line_kind, parse_reply, printable};

fuzz_target!(|data: &[u8]| {
    let mut lines = Vec::new();
    for raw in data.split(|&b| b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = printable(raw);
        assert!(!line.chars().any(char::is_control), "{line:?}");
        let kind = line_kind(&line);
        let b = line.as_bytes();
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let expected = match (digits, b.get(3)) {
            (3, Some(b'-')) => LineKind::More,
            (3, Some(b' ') | None) => LineKind::Last,
            _ => LineKind::Garbage,
        };
        assert_eq!(kind, expected, "{line:?}");
        lines.push(line);
        if kind == LineKind::Last {
            break;
        }
    }
    let reply = parse_reply(&lines, dsn_valid);
    assert_eq!(reply.text, lines.join("\n"));
    let last = lines.last().map(String::as_str).unwrap_or("");
    let digits = last.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 3 {
        assert_eq!(reply.code, last[..3].parse::<u32>().unwrap());
    } else {
        assert_eq!(reply.code, 0, "{last:?}");
    }
    let class = reply.code / 100;
    if digits == 3 && matches!(class, 2 | 4 | 5) {
        let class = char::from_digit(class, 10).unwrap();
        assert!(reply.dsn.starts_with(class), "{reply:?}");
        assert_eq!(dsn_valid(&reply.dsn), reply.dsn.len(), "{reply:?}");
    } else {
        assert_eq!(reply.dsn, "5.5.0", "{reply:?}");
    }
    let (name, keywords) = ehlo_lines(&reply.text);
    if let Some(name) = name {
        assert!(!name.is_empty() && lines[0].contains(name));
    }
    for line in keywords {
        assert!(!line.keyword.is_empty());
        assert!(!line.keyword.contains([' ', '\t', '=']), "{line:?}");
        assert!(line.rest.contains(line.keyword), "{line:?}");
        assert!(line.rest.ends_with(line.params()), "{line:?}");
        for word in line.words() {
            assert!(!word.is_empty() && line.rest.contains(word), "{line:?}");
        }
    }
});
