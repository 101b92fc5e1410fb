//! Robustness of the MIME processor: pseudo-random record streams built from MIME-like
//! fragments, under every option combination and small limits, never panic, keep headers
//! within the size limit, report each error kind once and only when asked, and call
//! `body_end` once per non-text record. Plus a few hostile inputs (deep nesting, many
//! boundary parameters, unbalanced comments) that must finish quickly.

use rfc822::mime::{
    HeaderClass, HeaderInfo, MimeErrors, MimeLimits, MimeOptions, MimeSink, MimeState, RecType,
};

/// A small deterministic generator (xorshift64*), so that failures can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&[u8]] = &[
    b"",
    b"Subject: x",
    b"Subject : obsolete",
    b" folded",
    b"\tfolded",
    b"Content-Type: multipart/mixed; boundary=a",
    b"Content-Type: multipart/digest; boundary=\"b\"",
    b"Content-Type: multipart/alternative; boundary=a; boundary=b; boundary=",
    b"Content-Type: message/rfc822",
    b"Content-Type: message/global",
    b"Content-Type: message/partial",
    b"Content-Type: text/plain (((((",
    b"Content-Type: \"unterminated",
    b"Content-Type:",
    b"Content-Transfer-Encoding: 8bit",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: binary",
    b"--a",
    b"--a--",
    b"--b",
    b"--b--",
    b"--",
    b"caf\xe9 =\t ",
    b"garbage without colon",
    b"X-Nul: a\0b",
    b"\r",
    b"\xff\xfe: 8-bit name",
];

/// Checks what the processor tells its sink.
#[derive(Default)]
struct Checker {
    header_limit: usize,
    max_record: usize,
    body_ends: usize,
    reported: Vec<MimeErrors>,
}

impl MimeSink for Checker {
    fn header(
        &mut self,
        _class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        // The Content-Transfer-Encoding header that DOWNGRADE inserts has no info.
        let inserted = info.is_none() && text.starts_with(b"Content-Transfer-Encoding: ");
        assert!(
            inserted || text.len() <= self.header_limit + self.max_record,
            "header of {} bytes",
            text.len()
        );
        assert!(!text.contains(&0), "NUL in a header");
    }

    fn body(&mut self, rec: RecType, _text: &[u8], _offset: u64) {
        assert_ne!(rec, RecType::NonText);
    }

    fn body_end(&mut self) {
        self.body_ends += 1;
    }

    fn error(&mut self, error: MimeErrors, _text: &[u8]) {
        assert!(!self.reported.contains(&error), "{error:?} reported twice");
        assert_eq!(error.bits().count_ones(), 1, "one error at a time");
        self.reported.push(error);
    }
}

/// The error each report option allows.
const REPORTS: [(MimeOptions, MimeErrors); 5] = [
    (MimeOptions::REPORT_NESTING, MimeErrors::NESTING),
    (MimeOptions::REPORT_TRUNC_HEADER, MimeErrors::TRUNC_HEADER),
    (
        MimeOptions::REPORT_8BIT_IN_HEADER,
        MimeErrors::EIGHT_BIT_IN_HEADER,
    ),
    (
        MimeOptions::REPORT_8BIT_IN_7BIT_BODY,
        MimeErrors::EIGHT_BIT_IN_7BIT_BODY,
    ),
    (
        MimeOptions::REPORT_ENCODING_DOMAIN,
        MimeErrors::ENCODING_DOMAIN,
    ),
];

#[test]
fn random_record_streams() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..3000 {
        let options = MimeOptions::from_bits(rng.next() as u32);
        let limits = MimeLimits {
            header_size_limit: rng.below(200),
            nesting_limit: rng.below(5),
            boundary_length_limit: rng.below(4),
        };
        let max_record = 1 + rng.below(60);
        let mut state = MimeState::new(
            options,
            limits,
            Checker {
                header_limit: limits.header_size_limit,
                max_record,
                ..Checker::default()
            },
        );
        let mut non_text = 0;
        for _ in 0..rng.below(80) {
            let fragment = FRAGMENTS[rng.below(FRAGMENTS.len())];
            let text = &fragment[..fragment.len().min(max_record)];
            let rec = match rng.below(10) {
                0 => RecType::Cont,
                1 => RecType::NonText,
                _ => RecType::Norm,
            };
            non_text += usize::from(rec == RecType::NonText);
            state.update(rec, text);
        }
        // The errors are cumulative.
        let errors = state.update(RecType::NonText, b"");
        non_text += 1;
        assert_eq!(errors, state.errors());

        let checker = state.into_sink();
        assert_eq!(checker.body_ends, non_text, "round {round}");
        let reported = checker
            .reported
            .iter()
            .fold(MimeErrors::NONE, |all, &e| all | e);
        assert_eq!(reported, errors, "round {round}");
        for (option, error) in REPORTS {
            if !options.contains(option) {
                assert!(!errors.intersects(error), "round {round}: {error:?}");
            }
        }
    }
}

/// Counts what comes out.
#[derive(Default)]
struct Counter {
    headers: usize,
    bodies: usize,
    errors: MimeErrors,
}

impl MimeSink for Counter {
    fn header(
        &mut self,
        _class: HeaderClass,
        _info: Option<&'static HeaderInfo>,
        _text: &mut Vec<u8>,
        _offset: u64,
    ) {
        self.headers += 1;
    }

    fn body(&mut self, _rec: RecType, _text: &[u8], _offset: u64) {
        self.bodies += 1;
    }

    fn error(&mut self, error: MimeErrors, _text: &[u8]) {
        self.errors |= error;
    }
}

fn all_reports() -> MimeOptions {
    REPORTS
        .iter()
        .fold(MimeOptions::NONE, |all, (option, _)| all | *option)
}

#[test]
fn deep_nesting_is_bounded() {
    let mut counter = Counter::default();
    let mut state = MimeState::new(all_reports(), MimeLimits::default(), &mut counter);
    for level in 0..20_000 {
        let header = format!("Content-Type: multipart/mixed; boundary=\"level{level}z\"");
        state.update(RecType::Norm, header.as_bytes());
        state.update(RecType::Norm, b"");
        state.update(RecType::Norm, format!("--level{level}z").as_bytes());
    }
    // The outermost boundary closes everything at once.
    state.update(RecType::Norm, b"--level0z--");
    let errors = state.update(RecType::NonText, b"");
    drop(state);
    assert!(errors.contains(MimeErrors::NESTING));
    // Boundaries 0 to 101 (the limit plus two, as in Postfix) were pushed; the header of
    // level 102 was the last one seen, since "--level102z" was no boundary.
    assert_eq!(counter.headers, 103);
}

#[test]
fn many_boundary_parameters_are_bounded() {
    let mut header = b"Content-Type: multipart/mixed".to_vec();
    for i in 0..10_000 {
        header.extend_from_slice(format!("; boundary=b{i}z").as_bytes());
    }
    let limits = MimeLimits {
        nesting_limit: 10,
        ..MimeLimits::default()
    };
    let mut state = MimeState::new(all_reports(), limits, Counter::default());
    state.update(RecType::Norm, &header);
    state.update(RecType::Norm, b"");
    // Only the first limit + 2 boundaries were kept: b12z is not one of them.
    state.update(RecType::Norm, b"--b12z");
    state.update(RecType::Norm, b"Subject: still body");
    state.update(RecType::Norm, b"--b11z");
    state.update(RecType::Norm, b"Subject: a part header");
    let errors = state.update(RecType::NonText, b"");
    let counter = state.into_sink();
    assert_eq!(errors, MimeErrors::NESTING);
    assert_eq!(counter.headers, 2);
}

#[test]
fn hostile_header_values() {
    let huge = 1_000_000;
    let values: [Vec<u8>; 5] = [
        [b"Content-Type: ".as_slice(), &vec![b'('; huge]].concat(),
        [
            b"Content-Type: multipart/x; boundary=\"".as_slice(),
            &vec![b'\\'; huge],
        ]
        .concat(),
        [b"Content-Type: multipart/x".as_slice(), &vec![b';'; huge]].concat(),
        [b"Content-Transfer-Encoding: ".as_slice(), &vec![b' '; huge]].concat(),
        [
            b"Content-Type: multipart/x; boundary=".as_slice(),
            &vec![b'x'; huge],
        ]
        .concat(),
    ];
    for value in values {
        let mut state = MimeState::new(all_reports(), MimeLimits::default(), Counter::default());
        state.update(RecType::Norm, &value);
        state.update(RecType::Norm, b"");
        state.update(RecType::Norm, b"--xxxxxxxx");
        state.update(RecType::NonText, b"");
    }
}

#[test]
fn long_headers_are_truncated() {
    let limits = MimeLimits {
        header_size_limit: 1000,
        ..MimeLimits::default()
    };
    let mut state = MimeState::new(
        all_reports(),
        limits,
        Checker {
            header_limit: 1000,
            max_record: 100,
            ..Checker::default()
        },
    );
    state.update(RecType::Cont, b"Subject: ");
    for _ in 0..10_000 {
        state.update(RecType::Cont, &[b'x'; 100]);
    }
    state.update(RecType::Norm, b"");
    for _ in 0..10_000 {
        state.update(RecType::Norm, &[b' '; 100]);
    }
    let errors = state.update(RecType::NonText, b"");
    assert_eq!(errors, MimeErrors::TRUNC_HEADER);
}
