//! Fuzz target: a whole SMTP session on the protocol core (the golden tests' session,
//! crates/smtp-proto/tests/support/session.rs): any bytes as client input, under a few
//! configurations, never panic, and every reply line starts with a three-digit code.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/smtp-proto/tests/support/session.rs"]
mod session;

const CONFIGS: [&str; 3] = [
    "",
    "smtpd_forbid_bare_newline = reject\nmessage_size_limit = 300\nsmtpd_recipient_limit = 2",
    "smtpd_forbid_bare_newline = normalize\nsmtputf8_enable = no\nstrict_rfc821_envelopes = yes\nsmtpd_discard_ehlo_keywords = chunking, dsn",
];

fuzz_target!(|data: &[u8]| {
    for cf in CONFIGS {
        let segments: Vec<Vec<u8>> = data.split(|&b| b == 0xff).map(<[u8]>::to_vec).collect();
        let session = session::Session::run(session::Config::from_cf(cf), &segments);
        for line in session.output.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            assert!(line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit), "reply {line:?}");
            assert!(line[3] == b' ' || line[3] == b'-');
        }
    }
});
