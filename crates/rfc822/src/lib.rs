//! RFC 822/5322 address handling with Postfix's rules: the token model that header rewriting
//! works on, and the quoting that converts between internal and external address forms.
//!
//! Postfix keeps an address in two forms. The *external* form is what appears in message
//! headers and SMTP commands: `"foo bar"@example.com`. The *internal* form is what queue
//! files, lookup tables and the rewriting service use: the same address with the local part
//! unquoted, `foo bar@example.com`. [`quote::quote_822_local`] and
//! [`quote::unquote_822_local`] convert one address between the forms; [`tok822`] parses a
//! whole header value (`"Joe Q." <joe@example.com>, bob (Bob), group: a@b, c@d;`) into
//! Postfix's token tree, finds the addresses in it, and turns the tree back into text.
//!
//! Everything here is lenient the way Postfix is: malformed input (unbalanced quotes,
//! comments, brackets) never fails, it yields whatever tokens Postfix would have produced.
//! Input is `&str`; callers holding bytes from the network that may not be UTF-8 carry them
//! with `util::eight_bit`, which gives them back unchanged afterwards (trivial-rewrite does
//! this for Latin-1 addresses). As in Postfix, whose strings are C strings, text ends at the
//! first NUL character.
//!
//! Postfix counterparts: `global/tok822_*.c`, `global/quote_822_local.c`,
//! `global/quote_821_local.c`, `global/quote_flags.c`.

pub mod mime;
pub mod quote;
pub mod quote821;
pub mod tok822;

/// The part of `text` that a C string would hold: everything before the first NUL.
fn c_str(text: &str) -> &str {
    text.find('\0').map_or(text, |nul| &text[..nul])
}

/// The bytes of a C string: everything before the first NUL.
fn c_bytes(bytes: &[u8]) -> &[u8] {
    bytes
        .iter()
        .position(|&b| b == 0)
        .map_or(bytes, |nul| &bytes[..nul])
}

/// Turns bytes that this crate assembled from UTF-8 text back into a `String`.
///
/// The byte-level code only ever splits or escapes text at ASCII characters, so the result
/// is valid UTF-8; the lossy fallback exists so that a mistake could never become a panic.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
