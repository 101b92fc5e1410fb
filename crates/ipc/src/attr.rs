//! Encoding and decoding attribute lists.
//!
//! Postfix counterparts: `util/attr_print0.c`, `attr_scan0.c`, `attr_print_plain.c`,
//! `attr_scan_plain.c`. Numbers are sent as unsigned decimal text, as Postfix's `%u` does,
//! so -1 goes out as 4294967295. What a peer sends is bounded: too long a name or value, or
//! too many attributes, is a protocol error rather than unbounded memory.

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

/// An ordered list of named values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs(pub Vec<(String, String)>);

impl Attrs {
    /// An empty list.
    pub fn new() -> Attrs {
        Attrs(Vec::new())
    }

    /// Adds a text value.
    pub fn str(mut self, name: &str, value: &str) -> Attrs {
        self.0.push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a number the way Postfix prints an int attribute (`%u`).
    pub fn int(self, name: &str, value: i32) -> Attrs {
        let text = (value as u32).to_string();
        self.str(name, &text)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name` as a number (unsigned text as Postfix sends it).
    pub fn get_int(&self, name: &str) -> Option<i32> {
        self.get(name)?.parse::<u32>().ok().map(|v| v as i32)
    }
}

/// Writes one attribute list and flushes it.
pub fn write(out: &mut impl Write, flavor: Flavor, attrs: &Attrs) -> io::Result<()> {
    let mut bytes = Vec::new();
    for (name, value) in &attrs.0 {
        if log::verbose() > 0 {
            log::msg_info!("send attr {name} = {value}");
        }
        match flavor {
            Flavor::Null => {
                bytes.extend_from_slice(name.as_bytes());
                bytes.push(0);
                bytes.extend_from_slice(value.as_bytes());
                bytes.push(0);
            }
            Flavor::Plain => {
                bytes.extend_from_slice(name.as_bytes());
                bytes.push(b'=');
                bytes.extend_from_slice(value.as_bytes());
                bytes.push(b'\n');
            }
        }
    }
    bytes.push(match flavor {
        Flavor::Null => 0,
        Flavor::Plain => b'\n',
    });
    out.write_all(&bytes)?;
    out.flush()
}

fn protocol_error(text: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, text.to_string())
}

/// Reads one field up to `end` (not included), bounded by [`MAX_FIELD`]. None at end of
/// input before any byte.
fn read_field(input: &mut impl BufRead, end: u8) -> io::Result<Option<Vec<u8>>> {
    let mut field = Vec::new();
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return if field.is_empty() {
                Ok(None)
            } else {
                Err(protocol_error("premature end of input"))
            };
        }
        match buf.iter().position(|&b| b == end) {
            Some(at) => {
                field.extend_from_slice(&buf[..at]);
                input.consume(at + 1);
                return Ok(Some(field));
            }
            None => {
                let n = buf.len();
                field.extend_from_slice(buf);
                input.consume(n);
                if field.len() > MAX_FIELD {
                    return Err(protocol_error("attribute too long"));
                }
            }
        }
    }
}

/// Reads one attribute list; None when the peer closed the connection before sending one.
pub fn read(input: &mut impl BufRead, flavor: Flavor) -> io::Result<Option<Attrs>> {
    let mut attrs = Attrs::new();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    loop {
        let (name, value) = match flavor {
            Flavor::Null => {
                let Some(name) = read_field(input, 0)? else {
                    return eof(attrs);
                };
                if name.is_empty() {
                    return Ok(Some(attrs));
                }
                let value = read_field(input, 0)?.ok_or_else(|| protocol_error("missing value"))?;
                (text(name), text(value))
            }
            Flavor::Plain => {
                let Some(line) = read_field(input, b'\n')? else {
                    return eof(attrs);
                };
                if line.is_empty() {
                    return Ok(Some(attrs));
                }
                let line = text(line);
                let (name, value) = line
                    .split_once('=')
                    .ok_or_else(|| protocol_error("missing '=' in attribute"))?;
                (name.to_string(), value.to_string())
            }
        };
        if log::verbose() > 0 {
            log::msg_info!("read attr {name} = {value}");
        }
        attrs.0.push((name, value));
        if attrs.0.len() > MAX_ATTRS {
            return Err(protocol_error("too many attributes"));
        }
    }
}

fn eof(attrs: Attrs) -> io::Result<Option<Attrs>> {
    if attrs.0.is_empty() {
        Ok(None)
    } else {
        Err(protocol_error("premature end of input"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn exact_bytes() {
        let attrs = Attrs::new().str("a", "b").int("n", 7);
        let mut bytes = Vec::new();
        write(&mut bytes, Flavor::Null, &attrs).unwrap();
        assert_eq!(bytes, b"a\0b\0n\x007\0\0");
        bytes.clear();
        write(&mut bytes, Flavor::Plain, &attrs).unwrap();
        assert_eq!(bytes, b"a=b\nn=7\n\n");
        assert_eq!(Attrs::new().int("s", -1).get("s"), Some("4294967295"));
        assert_eq!(Attrs::new().int("s", -1).get_int("s"), Some(-1));
    }

    #[test]
    fn bad_input_is_an_error() {
        let mut input: &[u8] = b"a=b\nno equals\n\n";
        assert!(read(&mut input, Flavor::Plain).is_err());
        let mut input: &[u8] = b"a\0b\0c";
        assert!(read(&mut input, Flavor::Null).is_err());
    }
}
