//! Reading golden case input: the escapes and `\W` splits of `tests/golden/NAME.in`, as
//! `tests/golden/record.py` sends them to Postfix.

/// One `.in` line as bytes, and whether CRLF follows it.
fn decode(line: &str) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut crlf = true;
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let tail = &rest[c.len_utf8()..];
        if c == '\\'
            && let Some(n) = tail.chars().next()
        {
            let after = &tail[1..];
            match n {
                'r' | 'n' | '0' | '\\' => {
                    out.push(match n {
                        'r' => b'\r',
                        'n' => b'\n',
                        '0' => 0,
                        _ => b'\\',
                    });
                    rest = after;
                    continue;
                }
                'c' if after.is_empty() => {
                    crlf = false;
                    rest = after;
                    continue;
                }
                'x' => {
                    let byte = u8::from_str_radix(&after[..2], 16).expect("\\xHH");
                    out.push(byte);
                    rest = &after[2..];
                    continue;
                }
                '{' => {
                    let end = after.find('}').expect("\\{N:TEXT}");
                    let (count, text) = after[..end].split_once(':').expect("\\{N:TEXT}");
                    let count: usize = count.parse().expect("\\{N:TEXT} count");
                    out.extend(text.repeat(count).bytes());
                    rest = &after[end + 1..];
                    continue;
                }
                _ => {}
            }
        }
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        rest = tail;
    }
    (out, crlf)
}

/// The bytes the client sends, in the writes it sends them in.
pub fn segments(text: &str) -> Vec<Vec<u8>> {
    let mut segments = vec![Vec::new()];
    let body = text.strip_suffix('\n').unwrap_or(text);
    for line in body.split('\n') {
        if line == "\\W" {
            segments.push(Vec::new());
            continue;
        }
        let (bytes, crlf) = decode(line);
        let last = segments.last_mut().expect("at least one segment");
        last.extend_from_slice(&bytes);
        if crlf {
            last.extend_from_slice(b"\r\n");
        }
    }
    segments
}
