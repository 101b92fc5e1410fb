//! Properties of the rfc822 crate that hold for every input, shared by
//! `tests/invariants.rs` (pseudo-random inputs under `cargo test`) and
//! `fuzz/fuzz_targets/tok822.rs` (which includes this file by path).

use rfc822::quote::{QuoteFlags, quote_822_local, unquote_822_local};
use rfc822::quote821::quote_821_local;
use rfc822::tok822::{self, StrFlags};

/// Parsing, printing and writing `text` back do not panic, and when every address can
/// survive the trip (see [`round_trips`]), the external form parses back to the same
/// addresses. Returns whether the addresses were compared.
pub fn check_reparse(text: &str) -> bool {
    let tree = tok822::parse(text);
    let _ = tok822::print_tree(&tree);
    let _ = tok822::parse_limit(text, 5);
    let _ = tok822::scan_addr(text).externalize();
    let _ = tok822::externalize(&tree, StrFlags::HEAD);
    if !round_trips(&tree) {
        return false;
    }
    let before = internal_addresses(&tree);
    let external = tok822::externalize(&tree, StrFlags::DEFL);
    let after = internal_addresses(&tok822::parse(&external));
    assert_eq!(before, after, "input {text:?} external {external:?}");
    true
}

/// Writing with a line break after each comma differs only there from writing with a
/// space (compared by position, since comments may hold line breaks of their own).
pub fn check_line_flag(text: &str) {
    let tree = tok822::parse(text);
    let flat = tok822::externalize(&tree, StrFlags::DEFL);
    let lines = tok822::externalize(&tree, StrFlags::DEFL | StrFlags::LINE);
    assert!(differ_in_line_breaks(&flat, &lines), "input {text:?}");
    let flat = tok822::internalize(&tree, StrFlags::DEFL);
    let lines = tok822::internalize(&tree, StrFlags::DEFL | StrFlags::LINE);
    assert!(differ_in_line_breaks(&flat, &lines), "input {text:?}");
}

/// Whether `lines` is `flat` with a line break for the space after some commas, and after
/// a final comma, where internal form has no space.
fn differ_in_line_breaks(flat: &str, lines: &str) -> bool {
    let (flat, mut lines) = (flat.as_bytes(), lines.as_bytes());
    if lines.len() == flat.len() + 1 && lines.ends_with(b",\n") {
        lines = &lines[..flat.len()];
    }
    flat.len() == lines.len()
        && flat.iter().zip(lines).enumerate().all(|(i, (f, l))| {
            f == l || (*f == b' ' && *l == b'\n' && i > 0 && flat[i - 1] == b',')
        })
}

/// Unquoting undoes quoting, whatever the flags, for RFC 822 and RFC 821 quoting.
pub fn check_quote_round_trip(text: &str) {
    let mbox = text.split('\0').next().unwrap_or("");
    for flags in [
        QuoteFlags::DEFAULT,
        QuoteFlags::NONE,
        QuoteFlags::DEFAULT | QuoteFlags::BARE_LOCALPART,
        QuoteFlags::DEFAULT | QuoteFlags::EXPOSE_AT,
    ] {
        let quoted = quote_822_local(text, flags);
        assert_eq!(unquote_822_local(&quoted), mbox, "{text:?} flags {flags}");
        // RFC 821 quoting has no source routes; unquote_822_local() would take a leading
        // `@...:` of an unquoted result for one.
        let quoted = quote_821_local(text, flags);
        if !(quoted.starts_with('@') && quoted.contains(':')) {
            assert_eq!(
                unquote_822_local(&quoted),
                mbox,
                "821 {text:?} flags {flags}"
            );
        }
    }
}

fn internal_addresses(tree: &[tok822::Token]) -> Vec<String> {
    tok822::addresses(tree)
        .iter()
        .map(|addr| addr.internalize())
        .collect()
}

/// Whether every address in `tree` survives externalizing and parsing again.
///
/// Quoting covers only the local part: a source route and the domain are written raw, as
/// Postfix does. When such raw text came from a quoted-string or a domain literal and holds
/// white space or a special (`a@"b c"`, `x@[a\\]b]`, `"@r:"x@y;`, `[a@b c]`), it scans
/// back as other tokens, in Postfix as here. Postfix does not escape `]` in a domain literal
/// either.
fn round_trips(tree: &[tok822::Token]) -> bool {
    tree.iter().all(|token| match token {
        tok822::Token::Addr(addr) => {
            let (internal, origin) = internalize_with_origin(&addr.tokens);
            let (route, domain) = raw_parts(&internal);
            let domain_start = internal.len() - domain.len();
            // 0: source route, 1: local part (quoted), 2: domain.
            let part = |i: usize| match i {
                _ if i < route.len() => 0,
                _ if i >= domain_start => 2,
                _ => 1,
            };
            (0..internal.len())
                .filter(|&i| part(i) != 1)
                .all(|i| match origin[i] {
                    Origin::Plain => true,
                    Origin::Fragile => false,
                    // Special text inside a domain literal is safe when the whole literal is raw.
                    Origin::InLiteral(open, close) => {
                        part(open) == part(i) && part(close) == part(i)
                    }
                })
        }
        tok822::Token::DomainLiteral(text) => !text.contains(']'),
        _ => true,
    })
}

/// Where a byte of an address's internal form came from.
#[derive(Clone, Copy)]
enum Origin {
    /// An atom, an operator, or text that scans back the same wherever it is.
    Plain,
    /// White space or a special from a quoted-string; `]` or `\\` from a domain literal.
    Fragile,
    /// White space or a special inside the domain literal whose `[` and `]` are at these
    /// offsets.
    InLiteral(usize, usize),
}

fn is_special(b: u8) -> bool {
    b" \t\r\n\"\\()<>,;:[]@".contains(&b)
}

/// A parsed address in internal form, with the [`Origin`] of each byte.
fn internalize_with_origin(tokens: &[tok822::Token]) -> (String, Vec<Origin>) {
    let mut text = String::new();
    let mut origin = Vec::new();
    for token in tokens {
        let start = text.len();
        match token {
            tok822::Token::QuotedString(s) => {
                text.push_str(s);
                origin.extend(s.bytes().map(|b| match b {
                    b'@' => Origin::Plain,
                    _ if is_special(b) => Origin::Fragile,
                    _ => Origin::Plain,
                }));
            }
            tok822::Token::DomainLiteral(s) => {
                text.push('[');
                text.push_str(s);
                text.push(']');
                origin.push(Origin::Plain);
                origin.extend(s.bytes().map(|b| match b {
                    b']' | b'\\' => Origin::Fragile,
                    _ if is_special(b) => Origin::InLiteral(start, start + s.len() + 1),
                    _ => Origin::Plain,
                }));
                origin.push(Origin::Plain);
            }
            tok822::Token::Atom(s) | tok822::Token::Comment(s) => text.push_str(s),
            tok822::Token::Op(op) => text.push(*op),
            tok822::Token::StartGroup => text.push(':'),
            tok822::Token::Addr(_) => {}
        }
        origin.resize(text.len(), Origin::Plain);
    }
    (text, origin)
}

/// The source route and the domain of an address in internal form, as quoting splits it.
fn raw_parts(internal: &str) -> (&str, &str) {
    let start = match internal.strip_prefix('@').and_then(|_| internal.find(':')) {
        Some(colon) => colon + 1,
        None => 0,
    };
    let domain = internal[start..]
        .rfind('@')
        .map_or("", |at| &internal[start + at..]);
    (&internal[..start], domain)
}
