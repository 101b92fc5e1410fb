//! Fuzz target: the SMTP command reader and parser (crates/smtp-proto). Any bytes, cut
//! into any writes, read as command lines and parsed as every command, give lines within
//! `line_length_limit`, words without white space outside brackets and quotes, and replies
//! that start with a three-digit code, without a panic; and how the input is cut into
//! writes never changes the lines.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smtp_proto::{
    AddrRules, BareLf, BdatCommand, Command, CommandReader, EhloMask, Helo, Input, MailOptions,
    RcptOptions, Reject, Transaction, Verb, Vrfy,
};

/// Line lengths that make truncation common, and Postfix's default.
const LIMITS: [usize; 3] = [8, 64, 2048];

/// The lines of `data` written in pieces of `step` bytes (0: all at once).
fn lines(data: &[u8], step: usize, limit: usize, bare_lf: BareLf) -> Vec<(Vec<u8>, bool, bool)> {
    let mut input = Input::new();
    let mut reader = CommandReader::new();
    let mut out = Vec::new();
    let pieces: Vec<&[u8]> = if step == 0 { vec![data] } else { data.chunks(step).collect() };
    for piece in pieces {
        input.push(piece);
        while let Some(line) = reader.read(&mut input, limit, bare_lf) {
            assert!(line.text.len() <= limit + 1, "line over the limit");
            assert!(line.truncated || !line.text.contains(&b'\n'));
            out.push((line.text.to_vec(), line.truncated, line.bare_lf));
        }
    }
    out
}

fn check_reply(result: Result<(), Reject>) {
    if let Err(reject) = result {
        let line = &reject.reply.lines()[0];
        assert!(line.len() >= 3 && line[..3].iter().all(u8::is_ascii_digit), "reply {line:?}");
    }
}

/// Runs every command parser on one line's words.
fn parse_all(cmd: &Command, line: &[u8]) {
    let args = &cmd.args[..];
    for word in args {
        assert!(!word.text.is_empty() && !word.text.contains(&0));
    }
    let mail = MailOptions {
        helo_required: false,
        smtputf8_enable: true,
        discard: EhloMask::NONE,
        strict_rfc821_envelopes: line.len() % 2 == 0,
        verp_allowed: true,
        verp_delims: "+=",
        verp_filter: "-=+",
        message_size_limit: 1000,
    };
    let mut txn = Transaction::new();
    check_reply(txn.mail_start(true, args, &mail));
    if let Ok(sender) = txn.mail_sender(args, &mail) {
        check_reply(txn.mail_params(&sender, args, &mail).map(drop));
        txn.mail_accept(sender, Default::default());
    }
    let rcpt = RcptOptions {
        discard: EhloMask::NONE,
        strict_rfc821_envelopes: false,
        recipient_limit: 2,
        recipient_overshoot_limit: 1,
    };
    check_reply(txn.rcpt_start(args));
    if let Ok(addr) = txn.rcpt_recipient(args, &rcpt) {
        if let Ok(params) = txn.rcpt_params(args, &rcpt) {
            let _ = params.orcpt.attr_value();
            txn.rcpt_accept(addr);
        }
    }
    check_reply(BdatCommand::parse(args, line, EhloMask::NONE).map(drop));
    check_reply(Helo::parse(Verb::Ehlo, args, true).map(drop));
    if let Ok(vrfy) = Vrfy::parse(args, false, true, EhloMask::NONE) {
        check_reply(vrfy.address().map(drop));
        let _ = vrfy.reply();
    }
    check_reply(smtp_proto::etrn_domain(false, args).map(drop));
    for attr in smtp_proto::attributes(args, true) {
        check_reply(attr.map(drop));
    }
    if let Some(arg) = args.get(1) {
        let _ = smtp_proto::extract_addr(arg, AddrRules { allow_empty: false, strict_rfc821: false });
    }
}

fuzz_target!(|data: &[u8]| {
    for (i, limit) in LIMITS.into_iter().enumerate() {
        let bare_lf = [BareLf::Allow, BareLf::Normalize, BareLf::Reject][i];
        let whole = lines(data, 0, limit, bare_lf);
        assert_eq!(whole, lines(data, 1, limit, bare_lf), "byte-by-byte writes");
        assert_eq!(whole, lines(data, 7, limit, bare_lf), "7-byte writes");
        for (text, _, _) in &whole {
            if let Ok(cmd) = Command::parse(text, i != 1) {
                parse_all(&cmd, text);
            }
        }
    }
});
