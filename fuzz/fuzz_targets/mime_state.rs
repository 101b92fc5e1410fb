//! Fuzz target: the header/MIME state machine (crates/rfc822/src/mime, Postfix's
//! global/mime_state.c) that cleanup runs over every message's content. Any records, with
//! any options and small limits, never make it panic, and what it reports holds together:
//! - a header is no longer than header_size_limit plus one record (and its joining
//!   newline), the bound the machine documents;
//! - the primary headers end at most once, and no primary header comes after that end;
//! - each error is one kind, reported at most once, and errors() says so too;
//! - without DOWNGRADE (the only option that adds text) nothing comes out that did not
//!   go in: header and body text together are no longer than the records fed;
//! - a non-text record flushes: body_end is called for it.
//!
//! Input: byte 0 the options (Postfix's MIME_OPT_* bits), byte 1 the limits, then records
//! separated by '\n'; a record that ends in 0x01 is a partial line (REC_TYPE_CONT).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfc822::mime::header_opts::HeaderInfo;
use rfc822::mime::{
    HeaderClass, MimeErrors, MimeLimits, MimeOptions, MimeSink, MimeState, RecType,
};

#[derive(Default)]
struct Sink {
    limit: usize,
    longest_record: usize,
    header_ends: usize,
    body_ends: usize,
    out_bytes: usize,
    errors: u32,
}

impl MimeSink for Sink {
    fn header(
        &mut self,
        class: HeaderClass,
        _info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        assert!(
            text.len() <= self.limit + self.longest_record + 1,
            "header of {} bytes, limit {}, longest record {}",
            text.len(),
            self.limit,
            self.longest_record
        );
        assert!(
            !(class == HeaderClass::Primary && self.header_ends > 0),
            "a primary header after the end of the primary headers"
        );
        self.out_bytes += text.len();
    }

    fn header_end(&mut self) {
        self.header_ends += 1;
        assert_eq!(self.header_ends, 1, "primary headers ended twice");
    }

    fn body(&mut self, _rec: RecType, text: &[u8], _offset: u64) {
        self.out_bytes += text.len();
    }

    fn body_end(&mut self) {
        self.body_ends += 1;
    }

    fn error(&mut self, error: MimeErrors, _text: &[u8]) {
        let bits = error.bits();
        assert_eq!(bits.count_ones(), 1, "error {bits:#x} is not one kind");
        assert_eq!(self.errors & bits, 0, "error {bits:#x} reported twice");
        self.errors |= bits;
    }
}

fuzz_target!(|data: &[u8]| {
    let [options, limits, rest @ ..] = data else {
        return;
    };
    let options = MimeOptions::from_bits(u32::from(*options));
    // Small limits, so that the fuzzer reaches them: headers of 16..=8176 bytes, nesting
    // 0..=7, boundaries 1..=8 bytes.
    let limits = MimeLimits {
        header_size_limit: 16 + usize::from(limits & 0x0f) * 544,
        nesting_limit: usize::from((limits >> 4) & 0x07),
        boundary_length_limit: 1 + usize::from(limits >> 7) * 7,
    };
    let records: Vec<(RecType, &[u8])> = rest
        .split(|&b| b == b'\n')
        .map(|r| match r.strip_suffix(&[1]) {
            Some(part) => (RecType::Cont, part),
            None => (RecType::Norm, r),
        })
        .collect();
    let sink = Sink {
        limit: limits.header_size_limit,
        longest_record: records.iter().map(|(_, r)| r.len()).max().unwrap_or(0),
        ..Sink::default()
    };
    let mut state = MimeState::new(options, limits, sink);
    for (kind, text) in &records {
        state.update(*kind, text);
    }
    let errors = state.update(RecType::NonText, b"");
    let sink = state.into_sink();
    assert_eq!(
        errors.bits(),
        sink.errors,
        "errors() and the reported errors differ"
    );
    assert!(
        sink.body_ends >= 1,
        "the non-text record did not end the body"
    );
    if !options.contains(MimeOptions::DOWNGRADE) {
        // Each record may gain the newline that joins it to a header's next line.
        let fed: usize = records.iter().map(|(_, r)| r.len() + 1).sum();
        assert!(
            sink.out_bytes <= fed,
            "{} bytes out of {fed} bytes of records",
            sink.out_bytes
        );
    }
});
