//! What the MIME processor learns from `Content-Type:` and `Content-Transfer-Encoding:`
//! headers, and the stack of multipart boundaries.
//!
//! Postfix counterpart: `mime_state_content_type()`, `mime_state_content_encoding()`,
//! `mime_state_push()` and `mime_state_pop()` in `global/mime_state.c`.

use super::state::{Ctype, Encoding, MimeState, Stype};
use super::token::{HeaderToken, RFC822_SPECIALS, RFC2045_TSPECIALS, TokenKind, header_token};
use super::{HeaderInfo, MimeErrors, MimeOptions, MimeSink};

/// A `Content-Type:` is read as `type / subtype` plus parameters, 3 tokens per item.
const MAX_TOKENS: usize = 3;

/// The names of the encodings, and the domain each belongs to (RFC 2045). An encoding that
/// is its own domain is an identity encoding, the only kind message/* and multipart/* allow.
const ENCODINGS: [(&str, Encoding, Encoding); 5] = [
    ("7bit", Encoding::SevenBit, Encoding::SevenBit),
    ("8bit", Encoding::EightBit, Encoding::EightBit),
    ("binary", Encoding::Binary, Encoding::Binary),
    ("base64", Encoding::Base64, Encoding::SevenBit),
    (
        "quoted-printable",
        Encoding::QuotedPrintable,
        Encoding::SevenBit,
    ),
];

impl Encoding {
    /// The name as in a header (`mime_state_enc_name()`).
    pub(super) fn name(self) -> &'static str {
        ENCODINGS
            .iter()
            .find(|(_, encoding, _)| *encoding == self)
            .map_or("unknown", |(name, _, _)| name)
    }
}

impl<S: MimeSink> MimeState<S> {
    /// The header value: what follows `Name:` in the saved header. The saved header has no
    /// space before its colon, so the name is exactly as long as the table's.
    fn header_value(&self, info: &HeaderInfo) -> &[u8] {
        self.buffer.get(info.name.len() + 1..).unwrap_or(&[])
    }

    /// Updates the content type from the saved `Content-Type:` header, and pushes the
    /// boundaries of a multipart type.
    ///
    /// As in Postfix, a type other than text, message and multipart leaves the previous
    /// type alone, and only an empty header makes it "other"; a multipart type keeps the
    /// previous subtype.
    pub(super) fn content_type(&mut self, info: &HeaderInfo) {
        let value = self.header_value(info).to_vec();
        let mut input = value.as_slice();
        let mut tokens = std::mem::take(&mut self.tokens);
        let count = header_token(
            &mut tokens,
            MAX_TOKENS,
            &mut input,
            RFC2045_TSPECIALS,
            Some(b';'),
        );
        let subtype_is = |tokens: &[HeaderToken], name: &str| {
            tokens.len() >= 3
                && tokens[1].kind == TokenKind::Special(b'/')
                && tokens[2].is_atom(name)
        };
        match count {
            Some(n) if n > 0 => {
                if tokens[0].is_atom("text") {
                    self.ctype = Ctype::Text;
                    self.stype = if subtype_is(&tokens, "plain") {
                        Stype::Plain
                    } else {
                        Stype::Other
                    };
                } else if tokens[0].is_atom("message") {
                    self.ctype = Ctype::Message;
                    self.stype = [
                        ("rfc822", Stype::Rfc822),
                        ("partial", Stype::Partial),
                        ("external-body", Stype::ExternalBody),
                        ("global", Stype::Global),
                    ]
                    .into_iter()
                    .find(|(name, _)| subtype_is(&tokens, name))
                    .map_or(Stype::Other, |(_, stype)| stype);
                } else if tokens[0].is_atom("multipart") {
                    self.ctype = Ctype::Multipart;
                    // multipart/digest parts default to message/rfc822, others to text/plain.
                    let defaults = if subtype_is(&tokens, "digest") {
                        (Ctype::Message, Stype::Rfc822)
                    } else {
                        (Ctype::Text, Stype::Plain)
                    };
                    // Every boundary parameter counts, though more than one is illegal: a
                    // sender who uses any one of them still cannot hide the part headers.
                    while header_token(
                        &mut tokens,
                        MAX_TOKENS,
                        &mut input,
                        RFC2045_TSPECIALS,
                        Some(b';'),
                    )
                    .is_some()
                    {
                        if tokens.len() >= 3
                            && tokens[0].is_atom("boundary")
                            && tokens[1].kind == TokenKind::Special(b'=')
                        {
                            self.push_boundary(defaults, &tokens[2].value);
                        }
                    }
                }
            }
            Some(_) => {}
            None => self.ctype = Ctype::Other,
        }
        self.tokens = tokens;
    }

    /// Pushes a boundary, unless the stack is already as deep as `mime_nesting_limit`
    /// allows. Postfix counts the depth from -1, so the stack can hold two more entries than
    /// the limit says.
    fn push_boundary(&mut self, defaults: (Ctype, Stype), boundary: &[u8]) {
        let depth = self.stack.entries.len() as i64 - 1;
        if depth > i64::try_from(self.limits.nesting_limit).unwrap_or(i64::MAX) {
            if self.options.contains(MimeOptions::REPORT_NESTING) {
                let text = std::mem::take(&mut self.buffer);
                self.report(MimeErrors::NESTING, &text);
                self.buffer = text;
            }
            return;
        }
        // Boundaries longer than RFC 2046's 70 characters exist (some include a host
        // name), but what is kept is bounded; a cut boundary still matches its lines.
        let keep = boundary.len().min(self.limits.boundary_length_limit);
        self.stack.push(Boundary {
            def_ctype: defaults.0,
            def_stype: defaults.1,
            text: boundary[..keep].to_vec(),
        });
    }

    /// Updates the encoding and its domain from the saved `Content-Transfer-Encoding:`
    /// header. An unknown encoding changes nothing, so the domain is always 7bit, 8bit or
    /// binary.
    pub(super) fn content_encoding(&mut self, info: &HeaderInfo) {
        let mut tokens = std::mem::take(&mut self.tokens);
        let mut input = self.header_value(info);
        if header_token(&mut tokens, 1, &mut input, RFC822_SPECIALS, None).is_some_and(|n| n > 0)
            && tokens[0].kind == TokenKind::Atom
            && let Some((_, encoding, domain)) = ENCODINGS
                .iter()
                .find(|(name, _, _)| tokens[0].value.eq_ignore_ascii_case(name.as_bytes()))
        {
            self.encoding = *encoding;
            self.domain = *domain;
        }
        self.tokens = tokens;
    }
}

/// One multipart boundary, with the content type its parts default to.
#[derive(Debug)]
pub(super) struct Boundary {
    pub(super) def_ctype: Ctype,
    pub(super) def_stype: Stype,
    pub(super) text: Vec<u8>,
}

/// The boundaries of the enclosing multipart entities, innermost last. With `-v`, pushes
/// and pops are logged, including those of a processor that is dropped with boundaries
/// still open (as Postfix's `mime_state_free()` does).
#[derive(Debug, Default)]
pub(super) struct BoundaryStack {
    pub(super) entries: Vec<Boundary>,
}

impl BoundaryStack {
    fn push(&mut self, boundary: Boundary) {
        if log::verbose() > 0 {
            log::msg_info!("PUSH boundary {}", super::printable(&boundary.text));
        }
        self.entries.push(boundary);
    }

    /// Pops the innermost boundary.
    pub(super) fn pop(&mut self) {
        if let Some(boundary) = self.entries.pop()
            && log::verbose() > 0
        {
            log::msg_info!("POP boundary {}", super::printable(&boundary.text));
        }
    }
}

impl Drop for BoundaryStack {
    fn drop(&mut self) {
        if log::verbose() > 0 {
            while !self.entries.is_empty() {
                self.pop();
            }
        }
    }
}
