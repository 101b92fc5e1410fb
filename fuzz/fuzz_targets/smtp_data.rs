//! Fuzz target: DATA and BDAT framing (crates/smtp-proto). For any bytes:
//!
//! - DATA content read in any cutting of the input into writes gives the same lines, end
//!   and leftover input, without a panic; the message ends only at a `.` line, and under
//!   `normalize` and `reject` only at CRLF.CRLF.
//! - Lines made from the input, dot-stuffed and sent with CRLF and a final `.`, come back
//!   as they were, under every bare-LF setting.
//! - BDAT chunks (sizes taken from the input) consume exactly their bytes, give the same
//!   lines in any cutting, and count each line's length plus 2.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_proto::{BareLf, BdatCommand, BdatEvent, BdatReader, DataEvent, DataReader, Input};

const MODES: [BareLf; 3] = [BareLf::Allow, BareLf::Normalize, BareLf::Reject];

/// What a DATA reader made of `data` written in pieces of `step` bytes (0: all at once):
/// the events as text, whether it ended, and the input left after the end.
fn read_data(data: &[u8], step: usize, limit: usize, mode: BareLf) -> (Vec<String>, bool, Vec<u8>) {
    let mut input = Input::new();
    let mut reader = DataReader::new(limit, 5000, mode);
    let mut events = Vec::new();
    let pieces: Vec<&[u8]> = if step == 0 { vec![data] } else { data.chunks(step).collect() };
    let mut pushed = 0;
    for piece in pieces {
        input.push(piece);
        pushed += piece.len();
        while let Some(event) = reader.read(&mut input) {
            match event {
                DataEvent::End => {
                    let rest = [input.pending(), &data[pushed..]].concat();
                    return (events, true, rest);
                }
                DataEvent::Line { text, complete } => {
                    assert!(text.len() <= limit, "line over the limit");
                    events.push(format!("{complete}:{text:?}"));
                }
                other => events.push(format!("{other:?}")),
            }
        }
    }
    (events, false, input.pending().to_vec())
}

/// The lines of `data` (CR and LF removed), dot-stuffed, with CRLF and the final dot.
fn stuffed(data: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let lines: Vec<Vec<u8>> = data
        .split(|&b| b == b'\n')
        .map(|l| l.iter().copied().filter(|&b| b != b'\r').collect())
        .collect();
    // A first line that no first-line kludge applies to.
    let mut wire = b"X: y\r\n".to_vec();
    for line in &lines {
        if line.first() == Some(&b'.') {
            wire.push(b'.');
        }
        wire.extend_from_slice(line);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b".\r\n");
    (lines, wire)
}

fn check_data(data: &[u8]) {
    for (i, mode) in MODES.into_iter().enumerate() {
        let limit = [16, 64, 2048][i];
        let whole = read_data(data, 0, limit, mode);
        assert_eq!(whole, read_data(data, 1, limit, mode), "byte-by-byte writes");
        assert_eq!(whole, read_data(data, 5, limit, mode), "5-byte writes");
        let (_, ended, rest) = &whole;
        if *ended {
            let used = &data[..data.len() - rest.len()];
            if mode == BareLf::Allow {
                // `.`, any CRs, LF, at the start of a line.
                let line = used.strip_suffix(b"\n").expect("ends at LF");
                let mut end = line.len();
                while end > 0 && line[end - 1] == b'\r' {
                    end -= 1;
                }
                let dot = end.checked_sub(1).expect("a dot");
                assert_eq!(line[dot], b'.');
                assert!(dot == 0 || line[dot - 1] == b'\n', "dot not at line start");
            } else {
                assert!(used == b".\r\n" || used.ends_with(b"\r\n.\r\n"), "end without CRLF.CRLF");
            }
        }
        let (lines, wire) = stuffed(data);
        let (events, ended, rest) = read_data(&wire, 0, 4096, mode);
        assert!(ended && rest.is_empty());
        let want: Vec<String> = std::iter::once(b"X: y".to_vec())
            .chain(lines)
            .map(|l| format!("true:{l:?}"))
            .collect();
        assert_eq!(events, want, "stuffed lines did not come back");
    }
}

/// BDAT chunk sizes from the first bytes; the rest is the stream.
fn check_bdat(data: &[u8]) {
    let (sizes, stream) = data.split_at(data.len().min(3));
    let mut chunks: Vec<BdatCommand> = sizes
        .iter()
        .map(|&s| BdatCommand { size: u64::from(s), last: false })
        .collect();
    if let Some(last) = chunks.last_mut() {
        last.last = true;
    }
    for (i, mode) in MODES.into_iter().enumerate() {
        let limit = [4, 16, 2048][i];
        let whole = read_bdat(&chunks, stream, 0, limit, mode);
        assert_eq!(whole, read_bdat(&chunks, stream, 1, limit, mode), "byte-by-byte writes");
        assert_eq!(whole, read_bdat(&chunks, stream, 3, limit, mode), "3-byte writes");
    }
}

/// Lines, counted size and leftover of BDAT chunks read from `stream` in `step`-byte writes.
fn read_bdat(chunks: &[BdatCommand], stream: &[u8], step: usize, limit: usize, mode: BareLf) -> (Vec<String>, u64, usize) {
    let mut input = Input::new();
    let mut reader = BdatReader::new(limit, 300, mode);
    let mut pieces: Box<dyn Iterator<Item = &[u8]>> =
        if step == 0 { Box::new(std::iter::once(stream)) } else { Box::new(stream.chunks(step)) };
    let mut events = Vec::new();
    let mut counted = 0;
    let mut wanted = 0;
    for chunk in chunks {
        reader.start_chunk(chunk);
        wanted += chunk.size;
        loop {
            match reader.read(&mut input) {
                Some(BdatEvent::ChunkEnd) => break,
                Some(BdatEvent::Line { text, complete }) => {
                    assert!(text.len() <= limit + 1);
                    counted += text.len() as u64 + 2;
                    events.push(format!("{complete}:{text:?}"));
                }
                Some(BdatEvent::TooBig) => events.push("big".into()),
                None => match pieces.next() {
                    Some(piece) => input.push(piece),
                    None => return (events, counted, usize::MAX),
                },
            }
        }
    }
    assert_eq!(reader.content().size(), counted);
    let consumed = stream.len() - input.pending().len() - pieces.map(<[u8]>::len).sum::<usize>();
    assert_eq!(consumed as u64, wanted, "chunk bytes consumed");
    (events, counted, consumed)
}

fuzz_target!(|data: &[u8]| {
    check_data(data);
    check_bdat(data);
});
