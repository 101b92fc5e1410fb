//! The MIME state machine: header blocks, and the switch to a body.
//!
//! Postfix counterpart: `mime_state_alloc()` and the header half of `mime_state_update()` in
//! `global/mime_state.c`; the body half is in `body.rs`.
//!
//! The machine is kept simple on purpose, for robustness with mail that follows standards
//! not yet written: it knows headers and bodies, that a multipart body has parts that each
//! start with headers, and that a message/* body starts with headers.

use super::content::BoundaryStack;
use super::header_opts::{self, HeaderType, is_header};
use super::token::HeaderToken;
use super::{HeaderClass, MimeErrors, MimeLimits, MimeOptions, MimeSink, RecType};

/// Content types the processor cares about (`MIME_CTYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ctype {
    Other,
    Text,
    Message,
    Multipart,
}

/// Content subtypes the processor cares about (`MIME_STYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stype {
    Other,
    Plain,
    Rfc822,
    Partial,
    ExternalBody,
    Global,
}

/// Content transfer encodings (`MIME_ENC_*`). The first three are also the domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Encoding {
    SevenBit,
    EightBit,
    Binary,
    Base64,
    QuotedPrintable,
}

/// Where the machine is: in a block of headers, or in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Header(HeaderClass),
    Body,
}

/// A MIME processor for one message (`MIME_STATE`). Feed it records with
/// [`update`](MimeState::update); it calls its [`MimeSink`] as it goes.
///
/// It starts in the primary headers, expecting text/plain in 7bit. Its memory is bounded by
/// the limits: one header of `header_size_limit` plus one record, and at most
/// `mime_nesting_limit + 2` boundaries of `mime_boundary_length_limit` bytes.
#[derive(Debug)]
pub struct MimeState<S: MimeSink> {
    pub(super) sink: S,
    pub(super) options: MimeOptions,
    pub(super) limits: MimeLimits,
    pub(super) phase: Phase,
    pub(super) ctype: Ctype,
    pub(super) stype: Stype,
    pub(super) encoding: Encoding,
    pub(super) domain: Encoding,
    /// The header being collected; in a body, the quoted-printable output being built.
    pub(super) buffer: Vec<u8>,
    /// Whether the previous record was a [`RecType::Cont`].
    pub(super) prev_cont: bool,
    /// Boundaries, innermost last.
    pub(super) stack: BoundaryStack,
    /// Scratch space for the header tokenizer.
    pub(super) tokens: Vec<HeaderToken>,
    pub(super) errors: MimeErrors,
    pub(super) head_offset: u64,
    pub(super) body_offset: u64,
}

impl<S: MimeSink> MimeState<S> {
    /// A processor with `options` and `limits` that reports to `sink`
    /// (`mime_state_alloc()`).
    pub fn new(options: MimeOptions, limits: MimeLimits, sink: S) -> MimeState<S> {
        MimeState {
            sink,
            options,
            limits,
            phase: Phase::Header(HeaderClass::Primary),
            ctype: Ctype::Text,
            stype: Stype::Plain,
            encoding: Encoding::SevenBit,
            domain: Encoding::SevenBit,
            buffer: Vec::new(),
            prev_cont: false,
            stack: BoundaryStack::default(),
            tokens: Vec::new(),
            errors: MimeErrors::NONE,
            head_offset: 0,
            body_offset: 0,
        }
    }

    /// The sink.
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, to change.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Ends processing and returns the sink. Call `update(RecType::NonText, b"")` first to
    /// flush what is pending.
    pub fn into_sink(self) -> S {
        self.sink
    }

    /// The errors found so far.
    pub fn errors(&self) -> MimeErrors {
        self.errors
    }

    /// Processes one record (`mime_state_update()`) and returns the errors found so far.
    ///
    /// `text` is the record's content without line ending. For a [`RecType::NonText`] record
    /// only its length matters (Postfix adds it to the offset of a header that the end of
    /// headers makes the machine insert).
    pub fn update(&mut self, rec: RecType, text: &[u8]) -> MimeErrors {
        let is_text = rec != RecType::NonText;

        // A partial line still pending is completed before anything ends.
        if !is_text && self.prev_cont {
            self.update(RecType::Norm, b"");
        }

        if let Phase::Header(_) = self.phase {
            if !self.buffer.is_empty() {
                if is_text && (self.prev_cont || matches!(text.first(), Some(b' ' | b'\t'))) {
                    self.continue_header(text);
                    return self.finish(rec);
                }
                self.flush_header(text.len());
            }
            if is_text {
                let name_len = is_header(text);
                if name_len > 0 {
                    // The obsolete "Name :" becomes "Name:", which other code expects.
                    self.buffer.clear();
                    self.buffer.extend_from_slice(&text[..name_len]);
                    let rest = &text[name_len..];
                    let value = rest
                        .iter()
                        .position(|&b| b != b' ' && b != b'\t')
                        .map_or(&[][..], |i| &rest[i..]);
                    append_c_string(&mut self.buffer, value);
                    return self.finish(rec);
                }
            }
            self.end_headers(rec, text);
        }
        self.body_update(rec, text);
        self.finish(rec)
    }

    /// Remembers the record type for the next record, and returns the errors so far.
    fn finish(&mut self, rec: RecType) -> MimeErrors {
        self.prev_cont = rec == RecType::Cont;
        self.errors
    }

    /// Adds the rest of a long line, or a continuation line, to the saved header, unless the
    /// header is already as long as `header_size_limit` allows.
    fn continue_header(&mut self, text: &[u8]) {
        if self.buffer.len() < self.limits.header_size_limit {
            if !self.prev_cont {
                self.buffer.push(b'\n');
            }
            append_c_string(&mut self.buffer, text);
        } else if self.options.contains(MimeOptions::REPORT_TRUNC_HEADER) {
            let text = std::mem::take(&mut self.buffer);
            self.report(MimeErrors::TRUNC_HEADER, &text);
            self.buffer = text;
        }
    }

    /// The saved header is complete: learn from it, check it, and pass it on. `next_len` is
    /// the length of the record that ended it, which Postfix adds to the header offset.
    fn flush_header(&mut self, next_len: usize) {
        let info = header_opts::header_info(&self.buffer);
        if !self.options.contains(MimeOptions::DISABLE_MIME)
            && let Some(info) = info
        {
            match info.kind {
                HeaderType::ContentType => self.content_type(info),
                HeaderType::ContentTransferEncoding => self.content_encoding(info),
                _ => {}
            }
        }
        if self.options.contains(MimeOptions::REPORT_8BIT_IN_HEADER)
            && !self.errors.contains(MimeErrors::EIGHT_BIT_IN_HEADER)
            && !self.buffer.is_ascii()
        {
            let text = std::mem::take(&mut self.buffer);
            self.report(MimeErrors::EIGHT_BIT_IN_HEADER, &text);
            self.buffer = text;
        }
        // When downgrading, a Content-Transfer-Encoding that is not 7bit is replaced at the
        // end of the headers, where the content type is known: the right value depends on it.
        let replaced = info.is_some_and(|i| i.kind == HeaderType::ContentTransferEncoding)
            && self.options.contains(MimeOptions::DOWNGRADE)
            && self.domain != Encoding::SevenBit;
        if !replaced {
            self.head_out(info, next_len);
        }
        self.prev_cont = false;
        self.buffer.clear();
    }

    /// Passes the saved header to the sink.
    fn head_out(&mut self, info: Option<&'static header_opts::HeaderInfo>, next_len: usize) {
        let Phase::Header(class) = self.phase else {
            return;
        };
        self.sink
            .header(class, info, &mut self.buffer, self.head_offset);
        self.head_offset = self.head_offset.saturating_add(next_len as u64 + 1);
    }

    /// The record `text` ends a block of headers: finish the block and switch to the body,
    /// or to the headers of an attached message.
    fn end_headers(&mut self, rec: RecType, text: &[u8]) {
        if self.options.contains(MimeOptions::DOWNGRADE) && self.domain != Encoding::SevenBit {
            // Message and multipart need an identity encoding; leaf parts get converted.
            let encoding = if (self.ctype == Ctype::Message && self.stype != Stype::Global)
                || self.ctype == Ctype::Multipart
            {
                "7bit"
            } else {
                "quoted-printable"
            };
            self.buffer.clear();
            self.buffer
                .extend_from_slice(format!("Content-Transfer-Encoding: {encoding}").as_bytes());
            self.head_out(None, text.len());
            self.buffer.clear();
        }

        if self.phase == Phase::Header(HeaderClass::Primary) {
            self.sink.header_end();
        }

        if self.options.contains(MimeOptions::REPORT_ENCODING_DOMAIN) {
            self.check_encoding_domain();
        }

        if rec == RecType::NonText {
            self.set_phase(Phase::Body);
        } else if text.is_empty() {
            self.body_offset = 0;
            self.enter_body();
        } else {
            // Not a header and not the blank line: garbage. The primary headers get the
            // missing blank line (which breaks nothing); an attachment does not, so as not
            // to break signatures. Either way the rest is body, not misread as headers.
            let Phase::Header(class) = self.phase else {
                return;
            };
            if log::verbose() > 0 {
                let name = match class {
                    HeaderClass::Primary => "primary",
                    HeaderClass::Multipart => "multipart",
                    HeaderClass::Nested => "nested",
                };
                log::msg_info!("garbage in {name} header");
            }
            if class == HeaderClass::Primary {
                self.body_out(RecType::Norm, b"");
            }
            self.set_phase(Phase::Body);
        }
    }

    /// Message/* and multipart/* allow only an identity encoding (7bit, 8bit, binary);
    /// message/partial and message/external-body only 7bit. Message/global may be encoded.
    fn check_encoding_domain(&mut self) {
        let bad = match (self.ctype, self.stype) {
            (Ctype::Message, Stype::Partial | Stype::ExternalBody) => {
                self.domain != Encoding::SevenBit
            }
            (Ctype::Message, Stype::Rfc822) | (Ctype::Multipart, _) => self.encoding != self.domain,
            _ => false,
        };
        if bad {
            self.report(MimeErrors::ENCODING_DOMAIN, self.encoding.name().as_bytes());
        }
    }

    /// After the blank line that ends a header block: does the body start with headers of
    /// its own? Message/rfc822 does; so does message/global, unless it must be downgraded
    /// (its encoded content is not inspected). A multipart body starts with its prolog.
    ///
    /// Headers inside message/* are parsed even when the encoding is wrong for them: few
    /// will be recognized, but the outer boundary still resynchronizes the machine.
    fn enter_body(&mut self) {
        let nested = match (self.ctype, self.stype) {
            (Ctype::Message, Stype::Rfc822) => true,
            (Ctype::Message, Stype::Global) => {
                !self.options.contains(MimeOptions::DOWNGRADE) || self.domain == Encoding::SevenBit
            }
            _ => false,
        };
        if nested {
            self.set_content(
                Phase::Header(HeaderClass::Nested),
                Ctype::Text,
                Stype::Plain,
            );
        } else if self.ctype == Ctype::Multipart {
            self.set_content(Phase::Body, Ctype::Other, Stype::Other);
        } else {
            self.set_phase(Phase::Body);
        }
    }

    /// Switches phase and resets that phase's offset (`SET_CURR_STATE`).
    pub(super) fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        match phase {
            Phase::Body => self.body_offset = 0,
            Phase::Header(_) => self.head_offset = 0,
        }
    }

    /// Switches phase and starts a new entity of the given type, 7bit (`SET_MIME_STATE`).
    pub(super) fn set_content(&mut self, phase: Phase, ctype: Ctype, stype: Stype) {
        self.set_phase(phase);
        self.ctype = ctype;
        self.stype = stype;
        self.encoding = Encoding::SevenBit;
        self.domain = Encoding::SevenBit;
    }

    /// Reports an error to the sink, once per kind.
    pub(super) fn report(&mut self, error: MimeErrors, text: &[u8]) {
        if !self.errors.contains(error) {
            self.sink.error(error, text);
            self.errors |= error;
        }
    }

    /// Passes a body record to the sink.
    pub(super) fn body_out(&mut self, rec: RecType, text: &[u8]) {
        self.sink.body(rec, text, self.body_offset);
        self.body_offset = self.body_offset.saturating_add(text.len() as u64 + 1);
    }
}

/// Appends `text` up to its first NUL: Postfix's header buffer is a C string.
fn append_c_string(buffer: &mut Vec<u8>, text: &[u8]) {
    let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
    buffer.extend_from_slice(&text[..end]);
}
