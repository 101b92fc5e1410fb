//! Encoding and decoding attribute lists.
//!
//! Postfix counterparts: `util/attr_print0.c`, `attr_scan0.c`, `attr_print_plain.c`,
//! `attr_scan_plain.c`. Numbers are sent as unsigned decimal text, as Postfix's `%u` does,
//! so -1 goes out as 4294967295. What a peer sends is bounded: too long a name or value, or
//! too many attributes, is a protocol error rather than unbounded memory.
//!
//! Names and values are kept as the bytes that were sent. Postfix's attributes are C
//! strings with no encoding: an SMTPUTF8 address, a Latin-1 address from an old client or
//! raw header text arrive as they were typed, and must leave as they came, so nothing here
//! decodes them. Callers that need text ask for it with [`Attrs::get_str`], which refuses
//! a value that is not UTF-8 instead of replacing what it cannot decode.

use std::fmt;
use std::io::{self, BufRead, Write};

/// The longest attribute name or value accepted from a peer.
pub const MAX_FIELD: usize = 1 << 20;
/// The most attributes accepted in one request.
pub const MAX_ATTRS: usize = 1024;

/// The two encodings Postfix uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `name\0value\0` pairs ended by `\0` (attr_print0): most internal services.
    Null,
    /// `name=value\n` lines ended by an empty line (attr_print_plain): anvil, policy.
    Plain,
}

/// Why [`Attrs::get_str`] has no text for a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrError {
    /// The list has no attribute of that name.
    Missing(String),
    /// The value is not UTF-8; [`Attrs::get_bytes`] has it as sent.
    NotUtf8(String),
}

impl fmt::Display for AttrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrError::Missing(name) => write!(f, "missing attribute {name}"),
            AttrError::NotUtf8(name) => write!(f, "attribute {name}: value is not UTF-8"),
        }
    }
}

impl std::error::Error for AttrError {}

/// An ordered list of named values, as bytes.
///
/// Every name and value is kept back to back in one buffer, with where each ends in a
/// second vector: reading a list then costs two allocations however many attributes it
/// has, not two per attribute (a delivery request has about fifty).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Names and values in the order sent, without separators.
    bytes: Vec<u8>,
    /// For each attribute, where its name ends and where its value ends in `bytes`; the
    /// name starts where the previous value ended.
    ends: Vec<(usize, usize)>,
}

impl Attrs {
    /// An empty list.
    pub fn new() -> Attrs {
        Attrs::default()
    }

    /// Adds a value as bytes (an address or header text, whatever its encoding).
    pub fn bytes(mut self, name: &str, value: &[u8]) -> Attrs {
        self.push(name.as_bytes(), value);
        self
    }

    /// Adds a text value.
    pub fn str(self, name: &str, value: &str) -> Attrs {
        self.bytes(name, value.as_bytes())
    }

    /// Adds a number the way Postfix prints an int attribute (`%u`).
    pub fn int(mut self, name: &str, value: i32) -> Attrs {
        self.bytes.extend_from_slice(name.as_bytes());
        let name_end = self.bytes.len();
        push_decimal(&mut self.bytes, value as u32);
        self.ends.push((name_end, self.bytes.len()));
        self
    }

    /// Appends one attribute, name and value as bytes.
    pub fn push(&mut self, name: &[u8], value: &[u8]) {
        self.bytes.extend_from_slice(name);
        let name_end = self.bytes.len();
        self.bytes.extend_from_slice(value);
        self.ends.push((name_end, self.bytes.len()));
    }

    /// How many attributes the list holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the list holds no attribute.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The name and value of attribute `i` (in the order sent), if there is one.
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let &(name_end, value_end) = self.ends.get(i)?;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1].1,
        };
        Some((
            &self.bytes[start..name_end],
            &self.bytes[name_end..value_end],
        ))
    }

    /// The name of attribute `i`; panics if there is none, as indexing does.
    pub fn name(&self, i: usize) -> &[u8] {
        self.get(i).expect("attribute index out of range").0
    }

    /// The value of attribute `i`; panics if there is none, as indexing does.
    pub fn value(&self, i: usize) -> &[u8] {
        self.get(i).expect("attribute index out of range").1
    }

    /// The attributes in the order sent, as (name, value).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], &[u8])> + ExactSizeIterator + '_ {
        (0..self.len()).map(|i| self.get(i).expect("in range"))
    }

    /// The names in the order sent.
    pub fn names(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + '_ {
        self.iter().map(|(name, _)| name)
    }

    /// Whether the names are exactly `names`, in this order (Postfix's strict scans).
    pub fn names_are(&self, names: &[&str]) -> bool {
        self.len() == names.len()
            && self
                .names()
                .zip(names)
                .all(|(have, want)| have == want.as_bytes())
    }

    /// The first value of `name`, as sent.
    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(n, _)| *n == name.as_bytes())
            .map(|(_, v)| v)
    }

    /// The first value of `name` as text; an error says whether it is missing or not UTF-8.
    pub fn get_str(&self, name: &str) -> Result<&str, AttrError> {
        let bytes = self
            .get_bytes(name)
            .ok_or_else(|| AttrError::Missing(name.to_string()))?;
        std::str::from_utf8(bytes).map_err(|_| AttrError::NotUtf8(name.to_string()))
    }

    /// The first value of `name` as a number (unsigned text as Postfix sends it), read as
    /// Postfix's attr_scan reads one (see [`scan_u32`]).
    pub fn get_int(&self, name: &str) -> Option<i32> {
        scan_u32(self.get_str(name).ok()?).map(|v| v as i32)
    }
}

/// A list from (name, value) pairs, in order.
impl<'a> FromIterator<(&'a [u8], &'a [u8])> for Attrs {
    fn from_iter<I: IntoIterator<Item = (&'a [u8], &'a [u8])>>(pairs: I) -> Attrs {
        let mut attrs = Attrs::new();
        for (name, value) in pairs {
            attrs.push(name, value);
        }
        attrs
    }
}

/// Appends `value` in decimal without a `String` of its own (`%u`).
fn push_decimal(out: &mut Vec<u8>, value: u32) {
    let mut digits = [0u8; 20];
    out.extend_from_slice(log::decimal::decimal(value.into(), &mut digits).as_bytes());
}

/// A number as Postfix's readers take it (`sscanf(text, "%u%c")` in attr_scan0.c and
/// attr_scan_plain.c, glibc on 64 bits): leading white space, an optional sign, decimal
/// digits and nothing after them. A peer may write a negative int as "-2" rather than as
/// its unsigned form; strtoul wraps it (and saturates a number that is too long), and the
/// result is cut to 32 bits, so "-2" reads as -2.
fn scan_u32(text: &str) -> Option<u32> {
    let text = text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value = match digits.parse::<u64>() {
        Ok(v) if negative => v.wrapping_neg(),
        Ok(v) => v,
        Err(_) => u64::MAX,
    };
    Some(value as u32)
}

/// Bytes as they would print in a log line or a test failure: printable ASCII as is, the
/// rest escaped (`\xf6`), so that 8-bit values are shown rather than replaced.
pub fn escaped(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

impl fmt::Debug for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(n, v)| (escaped(n), escaped(v))))
            .finish()
    }
}

/// The `-v` line for one attribute, as Postfix's attr_print/attr_scan log it. The log takes
/// text, so an 8-bit value that is not UTF-8 shows with replacement characters there.
fn log_attr(what: &str, name: &[u8], value: &[u8]) {
    log::msg_info!(
        "{what} attr {} = {}",
        String::from_utf8_lossy(name),
        String::from_utf8_lossy(value)
    );
}

/// Writes one attribute list and flushes it.
pub fn write(out: &mut impl Write, flavor: Flavor, attrs: &Attrs) -> io::Result<()> {
    let (after_name, after_value) = match flavor {
        Flavor::Null => (0, 0),
        Flavor::Plain => (b'=', b'\n'),
    };
    // One write of the whole list: the names and values plus a separator after each,
    // and the list's end.
    let mut bytes = Vec::with_capacity(attrs.bytes.len() + 2 * attrs.len() + 1);
    for (name, value) in attrs.iter() {
        if log::verbose() > 0 {
            log_attr("send", name, value);
        }
        bytes.extend_from_slice(name);
        bytes.push(after_name);
        bytes.extend_from_slice(value);
        bytes.push(after_value);
    }
    bytes.push(after_value);
    out.write_all(&bytes)?;
    out.flush()
}

fn protocol_error(text: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, text.to_string())
}

/// Appends one field up to `end` (not included) to `out`, bounded by [`MAX_FIELD`].
/// False at end of input before any byte.
fn read_field(input: &mut impl BufRead, end: u8, out: &mut Vec<u8>) -> io::Result<bool> {
    let start = out.len();
    loop {
        // A signal (the watchdog's alarm steps) interrupts a read on a socket with a
        // receive timeout even under SA_RESTART: read again, as std's read_until does.
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            return if out.len() == start {
                Ok(false)
            } else {
                Err(protocol_error("premature end of input"))
            };
        }
        let (taken, done) = match buf.iter().position(|&b| b == end) {
            Some(at) => (at, true),
            None => (buf.len(), false),
        };
        out.extend_from_slice(&buf[..taken]);
        input.consume(taken + usize::from(done));
        if out.len() - start > MAX_FIELD {
            return Err(protocol_error("attribute too long"));
        }
        if done {
            return Ok(true);
        }
    }
}

/// Reads one attribute list; None when the peer closed the connection before sending one.
pub fn read(input: &mut impl BufRead, flavor: Flavor) -> io::Result<Option<Attrs>> {
    // Room for a typical request, so that the buffers rarely grow while reading.
    let mut attrs = Attrs {
        bytes: Vec::with_capacity(512),
        ends: Vec::with_capacity(32),
    };
    loop {
        let start = attrs.bytes.len();
        let bytes = &mut attrs.bytes;
        let name_end = match flavor {
            Flavor::Null => {
                if !read_field(input, 0, bytes)? {
                    return eof(attrs);
                }
                if bytes.len() == start {
                    return Ok(Some(attrs));
                }
                let name_end = bytes.len();
                if !read_field(input, 0, bytes)? {
                    return Err(protocol_error("missing value"));
                }
                name_end
            }
            Flavor::Plain => {
                if !read_field(input, b'\n', bytes)? {
                    return eof(attrs);
                }
                if bytes.len() == start {
                    return Ok(Some(attrs));
                }
                let equals = bytes[start..]
                    .iter()
                    .position(|&b| b == b'=')
                    .ok_or_else(|| protocol_error("missing '=' in attribute"))?;
                // The '=' is not part of the name or the value.
                bytes.remove(start + equals);
                start + equals
            }
        };
        attrs.ends.push((name_end, attrs.bytes.len()));
        if log::verbose() > 0 {
            let (name, value) = attrs.get(attrs.len() - 1).expect("just added");
            log_attr("read", name, value);
        }
        if attrs.len() > MAX_ATTRS {
            return Err(protocol_error("too many attributes"));
        }
    }
}

fn eof(attrs: Attrs) -> io::Result<Option<Attrs>> {
    if attrs.is_empty() {
        Ok(None)
    } else {
        Err(protocol_error("premature end of input"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    /// Input that is interrupted by a signal before each chunk it delivers.
    struct Interrupting<'a> {
        data: &'a [u8],
        interrupt: bool,
    }

    impl Read for Interrupting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            let n = buf.len().min(self.data.len()).min(3);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_read_interrupted_by_a_signal_goes_on() {
        let input = Interrupting {
            data: b"queue_id\0ABC123\0\0",
            interrupt: false,
        };
        let attrs = read(&mut BufReader::new(input), Flavor::Null)
            .unwrap()
            .unwrap();
        assert_eq!(attrs.get_str("queue_id").unwrap(), "ABC123");
    }

    #[test]
    fn round_trips() {
        let attrs = Attrs::new()
            .str("request", "connect")
            .str("ident", "smtp:127.0.0.1")
            .int("status", -1);
        for flavor in [Flavor::Null, Flavor::Plain] {
            let mut bytes = Vec::new();
            write(&mut bytes, flavor, &attrs).unwrap();
            let mut input = &bytes[..];
            assert_eq!(read(&mut input, flavor).unwrap(), Some(attrs.clone()));
            assert_eq!(read(&mut input, flavor).unwrap(), None);
        }
    }

    #[test]
    fn numbers_read_as_postfix_reads_them() {
        // Postfix's plain reader takes a negative int as written and wraps it.
        let mut input = &b"status=-2\nsize= +7\n\n"[..];
        let attrs = read(&mut input, Flavor::Plain).unwrap().unwrap();
        assert_eq!(attrs.get_int("status"), Some(-2));
        assert_eq!(attrs.get_int("size"), Some(7));
        // What glibc's sscanf("%u%c") gives for the rest (checked with a C program).
        let int = |text: &str| Attrs::new().str("n", text).get_int("n");
        assert_eq!(int("4294967294"), Some(-2));
        assert_eq!(int("4294967296"), Some(0));
        assert_eq!(int("-4294967297"), Some(-1));
        assert_eq!(int("99999999999999999999"), Some(-1));
        for bad in ["", "-", "12 ", "1x", "0x10"] {
            assert_eq!(int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn exact_bytes() {
        let attrs = Attrs::new().str("a", "b").int("n", 7);
        let mut bytes = Vec::new();
        write(&mut bytes, Flavor::Null, &attrs).unwrap();
        assert_eq!(bytes, b"a\0b\0n\x007\0\0");
        bytes.clear();
        write(&mut bytes, Flavor::Plain, &attrs).unwrap();
        assert_eq!(bytes, b"a=b\nn=7\n\n");
        assert_eq!(Attrs::new().int("s", -1).get_str("s"), Ok("4294967295"));
        assert_eq!(Attrs::new().int("s", -1).get_int("s"), Some(-1));
    }

    /// 8-bit names and values (Latin-1, UTF-8, bytes that are neither) cross both encodings
    /// unchanged, byte for byte as Postfix sends them.
    #[test]
    fn eight_bit_values_are_kept() {
        let latin1: &[u8] = b"j\xf6rg@b\xfccher.example";
        let utf8 = "jörg@bücher.example";
        let mut attrs = Attrs::new();
        attrs.push(b"n\xe4me", b"\xff\x80=\xc3");
        let attrs = attrs.bytes("address", latin1).str("sender", utf8);
        let wire = [
            (
                Flavor::Null,
                b"n\xe4me\0\xff\x80=\xc3\0address\0j\xf6rg@b\xfccher.example\0\
                  sender\0j\xc3\xb6rg@b\xc3\xbccher.example\0\0" as &[u8],
            ),
            (
                Flavor::Plain,
                b"n\xe4me=\xff\x80=\xc3\naddress=j\xf6rg@b\xfccher.example\n\
                  sender=j\xc3\xb6rg@b\xc3\xbccher.example\n\n",
            ),
        ];
        for (flavor, want) in wire {
            let mut bytes = Vec::new();
            write(&mut bytes, flavor, &attrs).unwrap();
            assert_eq!(
                bytes.escape_ascii().to_string(),
                want.escape_ascii().to_string()
            );
            let mut input = &bytes[..];
            let again = read(&mut input, flavor).unwrap().unwrap();
            assert_eq!(again, attrs);
            assert_eq!(again.get_bytes("address"), Some(latin1));
            assert_eq!(
                again.get_str("address"),
                Err(AttrError::NotUtf8("address".into()))
            );
            assert_eq!(again.get_str("sender"), Ok(utf8));
            assert_eq!(
                again.get_str("nothing"),
                Err(AttrError::Missing("nothing".into()))
            );
        }
        assert_eq!(
            format!("{attrs:?}"),
            r#"{"n\\xe4me": "\\xff\\x80=\\xc3", "address": "j\\xf6rg@b\\xfccher.example", "sender": "j\\xc3\\xb6rg@b\\xc3\\xbccher.example"}"#
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut input: &[u8] = b"a=b\nno equals\n\n";
        assert!(read(&mut input, Flavor::Plain).is_err());
        let mut input: &[u8] = b"a\0b\0c";
        assert!(read(&mut input, Flavor::Null).is_err());
    }

    #[test]
    fn attributes_by_position() {
        let mut attrs = Attrs::new().str("request", "find").int("n", 42);
        attrs.push(b"", b"");
        attrs.push(b"tail", b"x=y");
        assert_eq!(attrs.len(), 4);
        assert_eq!(attrs.get(0), Some((&b"request"[..], &b"find"[..])));
        assert_eq!(attrs.get(1), Some((&b"n"[..], &b"42"[..])));
        assert_eq!(attrs.get(2), Some((&b""[..], &b""[..])));
        assert_eq!((attrs.name(3), attrs.value(3)), (&b"tail"[..], &b"x=y"[..]));
        assert_eq!(attrs.get(4), None);
        assert!(attrs.names_are(&["request", "n", "", "tail"]));
        assert!(!attrs.names_are(&["request", "n", "", "tail", "more"]));
        assert!(!attrs.names_are(&["request", "n", "tail", ""]));
        let names: Vec<&[u8]> = attrs.names().collect();
        assert_eq!(names, [&b"request"[..], b"n", b"", b"tail"]);
        let again: Attrs = attrs.iter().collect();
        assert_eq!(again, attrs);
        assert_ne!(again, Attrs::new().str("request", "find").int("n", 42));
        assert_eq!(Attrs::new().int("max", i32::MAX).value(0), b"2147483647");
        assert_eq!(Attrs::new().int("zero", 0).value(0), b"0");
    }

    #[test]
    fn long_values_in_small_reads_and_the_bounds() {
        let long = "v".repeat(5000);
        let attrs = Attrs::new().str("a", &long).str("b", "").str("c", "z");
        for flavor in [Flavor::Null, Flavor::Plain] {
            let mut bytes = Vec::new();
            write(&mut bytes, flavor, &attrs).unwrap();
            let input = Interrupting {
                data: &bytes,
                interrupt: false,
            };
            let again = read(&mut BufReader::new(input), flavor).unwrap().unwrap();
            assert_eq!(again, attrs);
            assert_eq!(again.get_str("a").map(str::len), Ok(5000));
            assert_eq!(again.get_str("b"), Ok(""));
        }
        let many = (0..=MAX_ATTRS).fold(Attrs::new(), |a, i| a.int("n", i as i32));
        let mut bytes = Vec::new();
        write(&mut bytes, Flavor::Null, &many).unwrap();
        assert!(read(&mut &bytes[..], Flavor::Null).is_err());
        let huge = Attrs::new().str("a", &"v".repeat(MAX_FIELD + 1));
        bytes.clear();
        write(&mut bytes, Flavor::Plain, &huge).unwrap();
        let mut input = BufReader::with_capacity(4096, &bytes[..]);
        assert!(read(&mut input, Flavor::Plain).is_err());
    }
}
