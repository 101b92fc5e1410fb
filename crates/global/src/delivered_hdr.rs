//! Mail forwarding loop detection: the Delivered-To: addresses a message already carries.
//!
//! Postfix counterpart: `global/delivered_hdr.c`. The local and pipe agents read the
//! primary message headers from the queue file once per request and refuse to deliver to
//! an address that is already listed, because that copy went round a loop (a .forward to
//! a host that forwards back). Addresses compare quoted and case-folded, as Postfix
//! stores them; at most 1000 headers are kept.

use crate::record::{rec_get, rec_type};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};

/// How many Delivered-To: headers are remembered (`DELIVERED_HDR_LIMIT`).
const LIMIT: usize = 1000;

/// The Delivered-To: addresses of one message (`DELIVERED_HDR_INFO`).
#[derive(Debug, Default)]
pub struct DeliveredHdr {
    table: HashSet<String>,
}

impl DeliveredHdr {
    /// Reads the primary headers of the message whose content starts at `offset`
    /// (`delivered_hdr_init`); a seek failure is fatal, as in Postfix.
    pub fn init(fp: &File, offset: u64) -> DeliveredHdr {
        let mut file = fp;
        if let Err(e) = file.seek(SeekFrom::Start(offset)) {
            log::msg_fatal!("seek queue file: {}", sys::os_error(&e));
        }
        let mut input = BufReader::new(file);
        let mut info = DeliveredHdr::default();
        let mut buf = Vec::new();
        let mut prev = rec_type::NORM;
        while info.table.len() < LIMIT {
            let kind = match rec_get(&mut input, &mut buf, 0) {
                Ok(kind @ (rec_type::NORM | rec_type::CONT)) => kind,
                _ => break,
            };
            // The rest of a long line is no header.
            let continued = prev == rec_type::CONT;
            prev = kind;
            if continued {
                continue;
            }
            if rfc822::mime::header_opts::is_header(&buf) > 0 {
                let Some(hdr) = rfc822::mime::header_opts::header_info(&buf) else {
                    continue;
                };
                if hdr.kind != rfc822::mime::HeaderType::DeliveredTo {
                    continue;
                }
                let value = buf.get(hdr.name.len() + 1..).unwrap_or_default();
                let text = util::eight_bit::to_text(value);
                let address = dict::casefold(text.trim_start_matches(is_space));
                if log::verbose() > 0 {
                    log::msg_info!("delivered_hdr_init: {address}");
                }
                info.table.insert(address);
            } else if buf.first().is_some_and(|&c| is_space(char::from(c))) {
                continue;
            } else {
                break;
            }
        }
        info
    }

    /// Whether `address` is among them (`delivered_hdr_find`).
    pub fn find(&self, address: &str) -> bool {
        let quoted = rfc822::quote::quote_822_local(address, rfc822::quote::QuoteFlags::DEFAULT);
        self.table.contains(&dict::casefold(&quoted))
    }
}

/// C `isspace`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::rec_put;
    use std::io::Write;

    fn queue_file(lines: &[(u8, &str)]) -> (File, u64) {
        let dir = crate::scratch_dir("delivered-hdr");
        let path = dir.join("q");
        let mut file = File::create(&path).unwrap();
        rec_put(&mut file, rec_type::MESG, b"").unwrap();
        let offset = file.stream_position().unwrap();
        for (kind, text) in lines {
            rec_put(&mut file, *kind, text.as_bytes()).unwrap();
        }
        rec_put(&mut file, rec_type::XTRA, b"").unwrap();
        file.flush().unwrap();
        (File::open(&path).unwrap(), offset)
    }

    #[test]
    fn finds_addresses_in_the_primary_headers_only() {
        let n = rec_type::NORM;
        let (file, offset) = queue_file(&[
            (n, "Received: by x"),
            (n, "\tid 1"),
            (n, "Delivered-To: Joe@Example.COM"),
            (n, "delivered-to:   \"a b\"@example.com"),
            (n, "Subject: x"),
            (n, ""),
            (n, "Delivered-To: body@example.com"),
        ]);
        let info = DeliveredHdr::init(&file, offset);
        assert!(info.find("joe@example.com"));
        assert!(info.find("a b@example.com"));
        assert!(!info.find("body@example.com"));
        assert!(!info.find("other@example.com"));
    }

    #[test]
    fn a_long_line_continued_is_not_a_header() {
        let (file, offset) = queue_file(&[
            (rec_type::CONT, "Subject: long"),
            (rec_type::NORM, "Delivered-To: x@example.com"),
            (rec_type::NORM, "Delivered-To: y@example.com"),
        ]);
        let info = DeliveredHdr::init(&file, offset);
        assert!(!info.find("x@example.com"));
        assert!(info.find("y@example.com"));
    }
}
