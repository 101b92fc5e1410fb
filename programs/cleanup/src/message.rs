//! The content segment: headers inspected and rewritten, missing headers added, the body
//! copied, all as it arrives.
//!
//! Postfix counterpart: `cleanup/cleanup_message.c`. The content goes through the MIME
//! processor (`rfc822::mime`), which hands back whole headers and body lines. Of the
//! primary headers: Received: headers are counted (more than `hopcount_limit` is a mail
//! forwarding loop), Message-Id: is logged, sender and recipient headers are rewritten to
//! canonical form in the context the client chose (`rewrite_context`) and through the
//! canonical maps and masquerading of their class (mapping.rs), and the headers in
//! `message_drop_headers` (Return-Path:, Bcc:...) are not written. At the end of the
//! headers a missing Message-Id:, Date:, From: and (with `undisclosed_recipients_header`)
//! To: are added, for local mail or with `always_add_missing_headers`. Header and body
//! checks (act.rs) see each header before anything else happens to it, and each body
//! line. Stray CR and LF characters inside a line become spaces
//! (`cleanup_replace_stray_cr_lf`); with checks on, a record with a character of
//! `message_reject_characters` rejects the message, and those of
//! `message_strip_characters` are removed. MIME errors the strict_* settings ask for reject the
//! message.

use crate::act::{Context, Outcome};
use crate::out::QueueSink;
use crate::state::{State, attr};
use crate::tables::{HDR_FROM, HDR_RCPT};
use global::cleanup_user::{FLAG_FILTER, STAT_BAD, STAT_CONT, STAT_HOPS};
use global::record::rec_type;
use rfc822::mime::header_opts::{HeaderFlags, HeaderInfo, HeaderType, header_info, is_header};
use rfc822::mime::{HeaderClass, MimeErrors, MimeOptions, MimeSink, MimeState, RecType};
use rfc822::quote::{QuoteFlags, quote_822_local};
use rfc822::tok822::{self, StrFlags, Token};
use util::eight_bit;

/// The bit for a header that is only known from `message_drop_headers` (`HDR_OTHER`).
const OTHER_BIT: u64 = 1 << 63;

/// The bit of `headers_seen` for a known header.
pub fn header_bit(kind: HeaderType) -> u64 {
    1 << (kind as u32)
}

/// The headers that show recipients (`VISIBLE_RCPT`).
fn visible_rcpt() -> u64 {
    header_bit(HeaderType::To)
        | header_bit(HeaderType::ResentTo)
        | header_bit(HeaderType::Cc)
        | header_bit(HeaderType::ResentCc)
}

/// The RFC 822 special characters, which force a full name to be quoted, with the
/// legacy routing operators `%` and `!` (`LEX_822_SPECIALS` and `"%!"`).
const FULLNAME_SPECIALS: &str = "%!()<>@,;:\\\".[]";

/// What cleanup knows about a header (Postfix's `HEADER_OPTS` with the drop flag).
#[derive(Debug, Clone, Copy)]
struct HeaderOpts {
    /// The entry of Postfix's table, if the name is in it.
    info: Option<&'static HeaderInfo>,
    /// Named in `message_drop_headers`.
    drop: bool,
    /// The length of the name.
    name_len: usize,
}

impl HeaderOpts {
    fn has(&self, flag: HeaderFlags) -> bool {
        self.info.is_some_and(|i| i.flags.contains(flag))
    }

    fn is(&self, kind: HeaderType) -> bool {
        self.info.is_some_and(|i| i.kind == kind)
    }

    fn bit(&self) -> u64 {
        self.info.map_or(OTHER_BIT, |i| header_bit(i.kind))
    }
}

/// Starts the content segment (`cleanup_message`): writes `M`, notes where the content
/// starts, and puts the state into a MIME processor with the options the settings ask
/// for.
pub fn start<W: QueueSink>(mut state: State<'_, W>) -> MimeState<State<'_, W>> {
    state.out_str(rec_type::MESG, "");
    state.data_offset = state.dst.offset();
    let settings = state.settings;
    let options = if settings.disable_mime {
        MimeOptions::DISABLE_MIME
    } else if state.flags & FLAG_FILTER != 0 {
        // Content checks are off when bouncing or forwarding mail.
        settings.strict_options
    } else {
        MimeOptions::NONE
    };
    state.segment = crate::state::Segment::Content;
    MimeState::new(options, settings.mime_limits, state)
}

/// One content record (`cleanup_message_headerbody`); true when it was `X`, the end of
/// the content.
pub fn content<W: QueueSink>(
    mime: &mut MimeState<State<'_, W>>,
    kind: u8,
    data: &mut [u8],
) -> bool {
    let state = mime.sink_mut();
    if state.settings.mask_stray_cr_lf {
        // Stray CR and LF could smuggle a second message through a later SMTP hop.
        for b in data.iter_mut() {
            if *b == b'\r' || *b == b'\n' {
                *b = b' ';
            }
        }
    }
    let settings = state.settings;
    let filter = state.flags & FLAG_FILTER != 0;
    if filter && data.iter().any(|b| settings.reject_chars.contains(b)) {
        let text = eight_bit::to_text(data).into_owned();
        state.act(
            Context::Content,
            &text,
            "REJECT disallowed character",
            "character reject",
        );
        return false;
    }
    let mut stripped;
    let data = if filter && !settings.strip_chars.is_empty() {
        stripped = data.to_vec();
        stripped.retain(|b| !settings.strip_chars.contains(b));
        stripped.as_mut_slice()
    } else {
        data
    };
    match kind {
        rec_type::NORM | rec_type::CONT => {
            let rec = if kind == rec_type::NORM {
                RecType::Norm
            } else {
                RecType::Cont
            };
            let errs = mime.update(rec, data);
            mime.sink_mut().mime_errs = errs;
            false
        }
        rec_type::XTRA => {
            let errs = mime.update(RecType::NonText, data);
            let state = mime.sink_mut();
            // A header cut at header_size_limit after the primary headers is no error.
            let errs = MimeErrors::from_bits(errs.bits() & !MimeErrors::TRUNC_HEADER.bits());
            state.mime_errs = errs;
            if let Some(detail) = errs.detail()
                && state.reason.is_none()
            {
                state.errs |= STAT_CONT;
                state.reason = Some(format!("{} {}", detail.dsn, detail.text));
            }
            state.xtra_offset = state.dst.offset();
            state.cont_length = state.xtra_offset - state.data_offset;
            state.segment = crate::state::Segment::ExtractedStart;
            true
        }
        _ => {
            log::msg_warn!(
                "cleanup_message_headerbody: message rejected: unexpected record type {kind} in message content"
            );
            state.errs |= STAT_BAD;
            false
        }
    }
}

impl<W: QueueSink> MimeSink for State<'_, W> {
    fn header(
        &mut self,
        class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        text: &mut Vec<u8>,
        _offset: u64,
    ) {
        self.header_callback(class, info, text);
    }

    fn header_end(&mut self) {
        self.header_done();
    }

    fn body(&mut self, rec: RecType, text: &[u8], offset: u64) {
        if !self.out_ok() {
            return;
        }
        let kind = if rec == RecType::Cont {
            rec_type::CONT
        } else {
            rec_type::NORM
        };
        match self.check_body(text, offset) {
            Outcome::Keep => self.out(kind, text),
            Outcome::Drop => {}
            Outcome::Replace(new) => self.out(kind, &eight_bit::to_bytes(&new)),
        }
    }

    fn error(&mut self, error: MimeErrors, text: &[u8]) {
        if error.bits() & !MimeErrors::TRUNC_HEADER.bits() == 0 {
            return;
        }
        let origin = self
            .attr
            .get(attr::LOG_ORIGIN)
            .cloned()
            .unwrap_or_else(|| "unknown".to_string());
        let shown = eight_bit::to_text(&text[..text.len().min(100)]).into_owned();
        let line = format!(
            "{}: reject: mime-error {}: {shown} from {origin}; from=<{}> to=<{}>",
            self.queue_id,
            error.text().unwrap_or(""),
            self.logged_sender(),
            self.logged_recip()
        );
        log::msg_info!("{line}");
    }
}

impl<W: QueueSink> State<'_, W> {
    /// What is known about header `text`.
    fn header_opts(&self, info: Option<&'static HeaderInfo>, text: &[u8]) -> Option<HeaderOpts> {
        let name_len = match text.iter().position(|&b| b == b':') {
            Some(colon) => text[..colon].trim_ascii_end().len(),
            None => text.len(),
        };
        let drop = self.settings.drops(&text[..name_len]);
        (info.is_some() || drop).then_some(HeaderOpts {
            info,
            drop,
            name_len,
        })
    }

    /// One complete header (`cleanup_header_callback`).
    fn header_callback(
        &mut self,
        mut class: HeaderClass,
        info: Option<&'static HeaderInfo>,
        header: &mut Vec<u8>,
    ) {
        if log::verbose() > 0 {
            let shown = String::from_utf8_lossy(&header[..header.len().min(200)]).into_owned();
            log::msg_info!("cleanup_header_callback: '{shown}'");
        }
        let mut opts = self.header_opts(info, header);
        if opts.is_some_and(|o| o.has(HeaderFlags::MIME)) {
            class = HeaderClass::Multipart;
        }
        // Count Received: headers before a header check might drop one.
        if opts.is_some_and(|o| o.is(HeaderType::Received)) {
            self.hop_count += 1;
        }
        match self.check_header(class, header) {
            Outcome::Keep => {}
            Outcome::Drop => return,
            Outcome::Replace(new) => {
                *header = eight_bit::to_bytes(&new).into_owned();
                opts = self.header_opts(header_info(header), header);
            }
        }
        let Some(opts) = opts else {
            self.out_header(header);
            return;
        };
        let value_at = (opts.name_len + 1).min(header.len());
        let value = header[value_at..].trim_ascii_start().to_vec();
        if self.settings.auto_8bit_enc_hdr && opts.is(HeaderType::ContentTransferEncoding) {
            // RFC 2045 encodings; "binary" counts as 8bit.
            let eight = [b"8bit".as_slice(), b"binary"]
                .iter()
                .any(|e| e.eq_ignore_ascii_case(&value));
            if eight {
                self.attr
                    .insert(attr::ENCODING.to_string(), attr::ENC_8BIT.to_string());
            }
        }
        if class != HeaderClass::Primary {
            self.out_header(header);
            return;
        }
        self.headers_seen |= opts.bit();
        if opts.is(HeaderType::MessageId) {
            log::msg_info!(
                "{}: message-id={}",
                self.queue_id,
                String::from_utf8_lossy(&value)
            );
        }
        if opts.is(HeaderType::ResentMessageId) {
            log::msg_info!(
                "{}: resent-message-id={}",
                self.queue_id,
                String::from_utf8_lossy(&value)
            );
        }
        if opts.is(HeaderType::Received) && self.hop_count >= self.settings.hopcount_limit {
            log::msg_warn!("{}: message rejected: hopcount exceeded", self.queue_id);
            self.errs |= STAT_HOPS;
        }
        if !self.out_ok() {
            return;
        }
        if opts.has(HeaderFlags::RR) {
            self.resent = "Resent-";
        }
        let context = self.hdr_rewrite_context;
        match context {
            Some(rule) if opts.has(HeaderFlags::SENDER) || opts.has(HeaderFlags::RECIP) => {
                self.rewrite_header(rule, opts, header);
            }
            _ if !opts.drop => self.out_header(header),
            _ => {}
        }
    }

    /// Rewrites the addresses in a sender or recipient header and writes it, folded,
    /// unless it is to be dropped (`cleanup_rewrite_sender`, `cleanup_rewrite_recip`).
    fn rewrite_header(&mut self, rule: &str, opts: HeaderOpts, header: &mut Vec<u8>) {
        if log::verbose() > 0 {
            let name = opts.info.map_or("", |i| i.name);
            let which = if opts.has(HeaderFlags::SENDER) {
                "rewrite_sender"
            } else {
                "rewrite_recip"
            };
            log::msg_info!("{which}: {name}");
        }
        let value_at = (opts.name_len + 1).min(header.len());
        let value = eight_bit::to_text(&header[value_at..]).into_owned();
        let mut tree = tok822::parse_limit(&value, self.settings.token_limit);
        let class = if opts.has(HeaderFlags::SENDER) {
            HDR_FROM
        } else {
            HDR_RCPT
        };
        let mut changed = false;
        for addr in tok822::addresses_mut(&mut tree) {
            changed |= crate::rewrite::rewrite_tree(self.rewriter, rule, addr);
            changed |= self.map_address(addr, class);
        }
        if changed {
            header.truncate(opts.name_len);
            header.extend_from_slice(b": ");
            let text = tok822::externalize(&tree, StrFlags::HEAD);
            header.extend_from_slice(&eight_bit::to_bytes(&text));
        }
        if opts.drop {
            return;
        }
        if changed {
            global::fold_header::fold_header(header);
        }
        self.out_header(header);
    }

    /// Whether header `kind`, or its Resent- version once Resent- headers were seen, is
    /// still missing and may be added.
    fn missing(&self, plain: HeaderType, resent: HeaderType) -> bool {
        let kind = if self.resent.is_empty() {
            plain
        } else {
            resent
        };
        (self.hdr_rewrite_context.is_some() || self.settings.always_add_hdrs)
            && self.headers_seen & header_bit(kind) == 0
    }

    /// The primary headers have ended: add the missing ones (`cleanup_header_done_callback`).
    fn header_done(&mut self) {
        if !self.out_ok() {
            return;
        }
        // Every mail source adds a Received: header; a message without one did not come
        // from a Postfix program.
        if self.hop_count < 1 {
            log::msg_warn!("{}: message rejected: no Received: header", self.queue_id);
            self.errs |= STAT_BAD;
            return;
        }
        if self.missing(HeaderType::MessageId, HeaderType::ResentMessageId) {
            let id = self.new_message_id();
            self.out_str(
                rec_type::NORM,
                &format!("{}Message-Id: <{id}>", self.resent),
            );
            let resent = if self.resent.is_empty() {
                ""
            } else {
                "resent-"
            };
            log::msg_info!("{}: {resent}message-id=<{id}>", self.queue_id);
            let kind = if self.resent.is_empty() {
                HeaderType::MessageId
            } else {
                HeaderType::ResentMessageId
            };
            self.headers_seen |= header_bit(kind);
        }
        if self.headers_seen & header_bit(HeaderType::MessageId) == 0 {
            log::msg_info!("{}: message-id=<>", self.queue_id);
        }
        if self.missing(HeaderType::Date, HeaderType::ResentDate) {
            let date = global::mail_date::mail_date(self.arrival_time.0);
            self.out_str(rec_type::NORM, &format!("{}Date: {date}", self.resent));
        }
        if self.missing(HeaderType::From, HeaderType::ResentFrom) {
            let from = self.missing_from_header();
            self.out(rec_type::NORM, &eight_bit::to_bytes(&from));
        }
        if (self.hdr_rewrite_context.is_some() || self.settings.always_add_hdrs)
            && self.headers_seen & visible_rcpt() == 0
            && !self.settings.rcpt_witheld.is_empty()
        {
            let header = &self.settings.rcpt_witheld;
            if is_header(header.as_bytes()) == 0 {
                log::msg_warn!(
                    "bad undisclosed_recipients_header header text \"{header}\" -- need \"headername: headervalue\""
                );
            } else {
                self.out_str(rec_type::NORM, &header.clone());
            }
        }
    }

    /// A new message ID: the queue ID at this host, with the time the queue file was made
    /// in front of short queue IDs (they repeat, the time makes them unique).
    fn new_message_id(&self) -> String {
        let host = &self.settings.myhostname;
        if self.settings.layout.long_queue_ids {
            format!("{}@{host}", self.queue_id)
        } else {
            format!("{}.{}@{host}", utc_stamp(self.ctime), self.queue_id)
        }
    }

    /// The From: header for a message without one: the sender (MAILER-DAEMON for the
    /// null sender) with the full name as `header_from_format` says.
    fn missing_from_header(&self) -> String {
        let sender = self.sender.as_deref().unwrap_or("");
        let address = quote_822_local(
            if sender.is_empty() {
                "MAILER-DAEMON"
            } else {
                sender
            },
            QuoteFlags::DEFAULT,
        );
        let fullname = self
            .fullname
            .as_deref()
            .filter(|f| !sender.is_empty() && !f.is_empty())
            .map(|f| f.replace(['\r', '\n'], " "));
        let Some(fullname) = fullname else {
            return format!("{}From: {address}", self.resent);
        };
        if self.settings.hfrom_standard {
            let tokens = if fullname.contains(|c| FULLNAME_SPECIALS.contains(c)) {
                vec![Token::QuotedString(fullname)]
            } else {
                // Only white space is normalized.
                tok822::scan_limit(&fullname, self.settings.token_limit)
            };
            let mut from = format!("{}From: ", self.resent);
            if !tokens.is_empty() {
                tok822::externalize_into(&mut from, &tokens, StrFlags::NONE);
                from.push(' ');
            }
            from.push_str(&format!("<{address}>"));
            from
        } else {
            let comment = tok822::parse(&format!("({fullname})"));
            let mut from = format!("{}From: {address} ", self.resent);
            tok822::externalize_into(&mut from, &comment, StrFlags::NONE);
            from
        }
    }
}

/// `secs` since the epoch as UTC `YYYYMMDDHHMMSS` (strftime `%Y%m%d%H%M%S` of gmtime).
fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rest = secs % 86400;
    // Howard Hinnant's civil-from-days: the proleptic Gregorian date of a day number.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;

    #[test]
    fn utc_stamps() {
        assert_eq!(utc_stamp(0), "19700101000000");
        assert_eq!(utc_stamp(951_782_400), "20000229000000");
        assert_eq!(utc_stamp(1_700_000_000), "20231114221320");
    }
}
