//! Fuzz target: the Dovecot auth protocol reader (crates/xsasl: line.rs, proto.rs,
//! secprops.rs, text.rs). Any bytes a server sends, cut into any reads, give the same
//! lines (each within MAX_LINE, without a newline) or the same "too long" end; every line
//! parses without a panic; a reply's id and fields come back from the line they were read
//! from; the user and reason texts smtpd would print have no ASCII control character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xsasl::line::{LineReader, MAX_LINE};
use xsasl::proto::{self, ServerLine};
use xsasl::text;

/// The lines of `data` read in pieces of `step` bytes (0: all at once), and whether the
/// reader gave up on a line too long.
fn lines(data: &[u8], step: usize) -> (Vec<Vec<u8>>, bool) {
    let mut reader = LineReader::new();
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = if step == 0 { vec![data] } else { data.chunks(step).collect() };
    for piece in pieces {
        reader.push(piece);
        loop {
            match reader.next_line() {
                Ok(Some(line)) => {
                    assert!(line.len() <= MAX_LINE && !line.contains(&b'\n'));
                    out.push(line);
                }
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fn check_line(line: &[u8]) {
    match proto::parse_line(line) {
        ServerLine::Mech { name, .. } => {
            assert!(!name.is_empty() && !name.contains(&b'\t'));
            assert!(line.starts_with(b"MECH\t"));
        }
        ServerLine::Reply { kind, id, rest } => {
            assert!(line.starts_with(kind.word().as_bytes()));
            if let Some(rest) = rest {
                assert!(id.is_some() && line.ends_with(rest));
            }
            let args = proto::reply_args(rest);
            for field in [args.user, args.reason].into_iter().flatten() {
                assert!(!field.contains(&b'\t'));
                // ASCII controls go; valid UTF-8 stays, C1 controls included, as in
                // Postfix's printable() with UTF-8 on.
                let shown = text::printable(field);
                assert!(!shown.chars().any(|c| c.is_ascii_control()), "{shown:?}");
            }
        }
        ServerLine::Version(Some(_)) => assert!(line.starts_with(b"VERSION")),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let (whole, too_long) = lines(data, 0);
    // Cut differently, the same lines come out; the "too long" verdict may come a line
    // later when the long line's bytes arrive in pieces, never for different lines.
    for step in [1, 7, 4096] {
        let (cut, cut_too_long) = lines(data, step);
        assert_eq!(cut_too_long, too_long);
        assert_eq!(cut, whole);
    }
    for line in &whole {
        check_line(line);
    }
});
