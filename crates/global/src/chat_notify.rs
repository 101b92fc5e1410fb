//! Postmaster notices with the transcript of an SMTP session that went wrong.
//!
//! Postfix counterparts: `smtpd_chat_notify()` in `smtpd/smtpd_chat.c`,
//! `smtp_chat_notify()` in `smtp/smtp_chat.c`, the class names of `global/mail_error.c`
//! and `post_mail_fopen_nowait()` of `global/post_mail.c`. smtpd and smtp keep the
//! session's commands and replies ([`History`]) and the classes of the errors it had
//! (the [`mail_error`] bits); when a class is one notify_classes names, the postmaster
//! (error_notice_recipient, or bounce_notice_recipient for a message refused as too big)
//! gets a message from the double-bounce address with the transcript. It is junk mail
//! in the end: when cleanup cannot be reached nothing is retried, and each transcript
//! line starts with a space, so that text a client sent can never look like a header.

use crate::cleanup_clnt::Post;
use crate::input_transp::{mail_src, smtputf8_autodetect};
use params::decl::bounce::INTERNAL_MAIL_FILTER_CLASSES;
use params::decl::cleanup::HEADER_FROM_FORMAT;
use params::decl::identity::{MAIL_NAME, MYHOSTNAME, SMTPUTF8_AUTODETECT_CLASSES, SMTPUTF8_ENABLE};
use params::decl::process::IPC_TIMEOUT;
use params::decl::queue::{
    BOUNCE_NOTICE_RECIPIENT, DOUBLE_BOUNCE_SENDER, ERROR_NOTICE_RECIPIENT, NOTIFY_CLASSES,
};
use params::decl::submission::CLEANUP_SERVICE_NAME;
use params::{Config, ConfigError};
use std::time::Duration;

/// Error classes (Postfix's `MAIL_ERROR_*`, with its values).
pub mod mail_error {
    /// A restriction refused something.
    pub const POLICY: u32 = 1 << 0;
    /// The other side broke the protocol.
    pub const PROTOCOL: u32 = 1 << 1;
    /// Mail was refused (as too big, in smtpd).
    pub const BOUNCE: u32 = 1 << 2;
    /// A software or configuration error.
    pub const SOFTWARE: u32 = 1 << 3;
    /// A local resource problem.
    pub const RESOURCE: u32 = 1 << 4;
    /// A double bounce.
    pub const TWO_BOUNCE: u32 = 1 << 5;
    /// A delayed message.
    pub const DELAY: u32 = 1 << 6;
    /// Local data could not be read.
    pub const DATA: u32 = 1 << 7;
}

/// notify_classes' names (`mail_error_masks`).
const CLASS_NAMES: &[(&str, u32)] = &[
    ("bounce", mail_error::BOUNCE),
    ("2bounce", mail_error::TWO_BOUNCE),
    ("data", mail_error::DATA),
    ("delay", mail_error::DELAY),
    ("policy", mail_error::POLICY),
    ("protocol", mail_error::PROTOCOL),
    ("resource", mail_error::RESOURCE),
    ("software", mail_error::SOFTWARE),
];

/// notify_classes' value as [`mail_error`] bits; Err names a class that is not one.
pub fn notify_mask(classes: &str) -> Result<u32, String> {
    util::name_mask::name_mask(NOTIFY_CLASSES.name, CLASS_NAMES, classes)
}

/// Postfix's line_wrap() width and indent for transcript lines.
const WRAP_LENGTH: usize = 78;
const WRAP_INDENT: usize = 4;

/// The commands and replies of a session, each line with its direction (`Out: `,
/// `In:  `), as Postfix's `state->history` holds them.
#[derive(Debug, Default, Clone)]
pub struct History {
    lines: Vec<String>,
}

impl History {
    /// Adds one line: `direction` then `text`.
    pub fn append(&mut self, direction: &str, text: &str) {
        self.lines.push(format!("{direction}{text}"));
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Forgets every line (`smtpd_chat_reset()`).
    pub fn clear(&mut self) {
        self.lines.clear();
    }

    /// The transcript as it goes into the notice: each line made printable, wrapped at
    /// 78 columns with continuation lines indented by 4, and every line led by a space.
    pub fn transcript(&self, utf8: bool) -> Vec<String> {
        self.lines
            .iter()
            .flat_map(|line| {
                let shown = util::printable::printable(line, utf8);
                util::line_wrap::line_wrap(&shown, WRAP_LENGTH, WRAP_INDENT)
            })
            .map(|line| format!(" {line}"))
            .collect()
    }
}

/// What a notice needs from main.cf.
#[derive(Debug, Clone)]
pub struct Notifier {
    /// notify_classes as [`mail_error`] bits.
    pub mask: u32,
    /// error_notice_recipient.
    pub error_rcpt: String,
    /// bounce_notice_recipient.
    pub bounce_rcpt: String,
    /// mail_name.
    pub mail_name: String,
    /// myhostname.
    pub myhostname: String,
    /// `$double_bounce_sender@$myhostname`, the envelope sender.
    double_bounce: String,
    /// header_from_format = standard (else obsolete).
    std_from: bool,
    /// smtputf8_enable: UTF-8 in the transcript is shown as is.
    utf8: bool,
    /// cleanup_service_name.
    cleanup_service: String,
    /// The cleanup flags of a notice (`post_mail_fopen_nowait` for MAIL_SRC_MASK_NOTIFY).
    cleanup_flags: u32,
    /// ipc_timeout.
    ipc_timeout: Duration,
}

impl Notifier {
    /// Reads the settings; a bad notify_classes or header_from_format is fatal, as in
    /// Postfix.
    pub fn from_config(config: &Config) -> Result<Notifier, ConfigError> {
        let mask =
            notify_mask(&config.str(&NOTIFY_CLASSES)?).unwrap_or_else(|e| log::msg_fatal!("{e}"));
        let myhostname = config.str(&MYHOSTNAME)?;
        Ok(Notifier {
            mask,
            error_rcpt: config.str(&ERROR_NOTICE_RECIPIENT)?,
            bounce_rcpt: config.str(&BOUNCE_NOTICE_RECIPIENT)?,
            mail_name: config.str(&MAIL_NAME)?,
            double_bounce: format!("{}@{myhostname}", config.str(&DOUBLE_BOUNCE_SENDER)?),
            myhostname,
            std_from: std_from(config)?,
            utf8: config.bool(&SMTPUTF8_ENABLE)?,
            cleanup_service: config.str(&CLEANUP_SERVICE_NAME)?,
            cleanup_flags: post_flags(config, mail_src::NOTIFY)?,
            ipc_timeout: Duration::from_secs(config.time(&IPC_TIMEOUT)? as u64),
        })
    }

    /// The envelope sender of notices, `$double_bounce_sender@$myhostname`.
    pub fn double_bounce(&self) -> &str {
        &self.double_bounce
    }

    /// Whether errors of the classes in `error_mask` are to be reported.
    pub fn wanted(&self, error_mask: u32) -> bool {
        self.mask & error_mask != 0
    }

    /// The notice's content after the `Date:` header that posting adds: From, To and
    /// Subject, then `preface`, the transcript and `trailer`.
    pub fn content(
        &self,
        subject: &str,
        preface: &[String],
        history: &History,
        trailer: &[String],
    ) -> Vec<String> {
        let daemon = format!("MAILER-DAEMON@{}", self.myhostname);
        let mut lines = if self.std_from {
            vec![
                format!("From: Mail Delivery System <{daemon}>"),
                format!("To: Postmaster <{}>", self.error_rcpt),
            ]
        } else {
            vec![
                format!("From: {daemon} (Mail Delivery System)"),
                format!("To: {} (Postmaster)", self.error_rcpt),
            ]
        };
        lines.push(format!("Subject: {subject}"));
        lines.extend(preface.iter().cloned());
        lines.extend(history.transcript(self.utf8));
        lines.extend(trailer.iter().cloned());
        lines
    }

    /// Mails the notice to `recipient` through cleanup; a failure to reach cleanup is
    /// logged as Postfix's `postmaster notify:` warning and nothing more happens.
    pub fn send(
        &self,
        recipient: &str,
        subject: &str,
        preface: &[String],
        history: &History,
        trailer: &[String],
    ) {
        let post = Post {
            service: &self.cleanup_service,
            ipc_timeout: self.ipc_timeout,
            flags: self.cleanup_flags,
            sender: &self.double_bounce,
            recipient,
            trace_flags: 0,
            myhostname: &self.myhostname,
            mail_name: &self.mail_name,
        };
        let mut stream = match post.open() {
            Ok(stream) => stream,
            Err(e) => {
                log::msg_warn!("postmaster notify: {e}");
                return;
            }
        };
        for line in self.content(subject, preface, history, trailer) {
            stream.record(crate::record::rec_type::NORM, line.as_bytes());
        }
        let _ = stream.finish(&[]);
    }
}

/// header_from_format: true for `standard`, false for `obsolete`; another value is fatal,
/// as in Postfix.
pub fn std_from(config: &Config) -> Result<bool, ConfigError> {
    match config.str(&HEADER_FROM_FORMAT)?.as_str() {
        "standard" => Ok(true),
        "obsolete" => Ok(false),
        other => log::msg_fatal!("invalid setting: \"{} = {other}\"", HEADER_FROM_FORMAT.name),
    }
}

/// The cleanup flags of mail the system makes from `source` (a [`mail_src`] bit), as
/// `post_mail_fopen()` sends them: CLEANUP_FLAG_MASK_INTERNAL, content inspection per
/// internal_mail_filter_classes, SMTPUTF8 autodetection per smtputf8_autodetect_classes.
pub fn post_flags(config: &Config, source: u32) -> Result<u32, ConfigError> {
    let autodetect = smtputf8_autodetect(
        config.bool(&SMTPUTF8_ENABLE)?,
        &config.str(&SMTPUTF8_AUTODETECT_CLASSES)?,
        source,
    )
    .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    let filter = int_filt_flags(&config.str(&INTERNAL_MAIL_FILTER_CLASSES)?, source);
    Ok(filter | crate::cleanup_user::FLAG_MAP_OK | autodetect)
}

/// The cleanup flags that send mail the system makes from `source` (a
/// [`mail_src`] bit: notices, bounces) through content inspection when
/// internal_mail_filter_classes (`classes`) names it (Postfix's `int_filt_flags()`).
pub fn int_filt_flags(classes: &str, source: u32) -> u32 {
    use crate::cleanup_user::{FLAG_FILTER, FLAG_MILTER};
    if classes.trim().is_empty() {
        return 0;
    }
    let table = [
        ("notify", mail_src::NOTIFY),
        ("bounce", mail_src::BOUNCE),
        ("sendmail", 0),
        ("smtpd", 0),
        ("qmqpd", 0),
        ("forward", 0),
        ("verify", 0),
    ];
    let mask = util::name_mask::name_mask(INTERNAL_MAIL_FILTER_CLASSES.name, &table, classes)
        .unwrap_or_else(|e| log::msg_fatal!("{e}"));
    if mask == 0 {
        log::msg_warn!(
            "{}: bad input: {classes}",
            INTERNAL_MAIL_FILTER_CLASSES.name
        );
    }
    if mask & source != 0 {
        FLAG_FILTER | FLAG_MILTER
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_lines_are_printable_wrapped_and_indented() {
        let mut history = History::default();
        history.append("In:  ", "HELO x\u{7}");
        let long = format!("550 5.7.1 {}", "word ".repeat(20));
        history.append("Out: ", long.trim_end());
        let lines = history.transcript(false);
        assert_eq!(lines[0], " In:  HELO x?");
        assert!(lines[1].starts_with(" Out: 550 5.7.1 word"));
        assert!(lines[2].starts_with("     word"));
        assert!(lines.iter().all(|l| l.len() <= 79));
    }

    #[test]
    fn the_notice_has_postfix_s_headers_and_layout() {
        let main = params::main_cf::MainCf::parse(
            std::path::Path::new("main.cf"),
            "myhostname = mx.example\nerror_notice_recipient = pm\n",
        )
        .unwrap();
        let config = Config::new(std::path::Path::new("/nonexistent"), main);
        let notifier = Notifier::from_config(&config).unwrap();
        assert_eq!(notifier.double_bounce(), "double-bounce@mx.example");
        assert_eq!(notifier.mask, mail_error::RESOURCE | mail_error::SOFTWARE);
        let mut history = History::default();
        history.append("In:  ", "BOGUS");
        let lines = notifier.content("S", &["".into()], &history, &["".into()]);
        assert_eq!(
            lines,
            [
                "From: Mail Delivery System <MAILER-DAEMON@mx.example>",
                "To: Postmaster <pm>",
                "Subject: S",
                "",
                " In:  BOGUS",
                "",
            ]
        );
    }

    #[test]
    fn notify_classes_names() {
        let mask = notify_mask("protocol, policy").unwrap();
        assert_eq!(mask, mail_error::PROTOCOL | mail_error::POLICY);
        assert!(notify_mask("nonsense").is_err());
    }

    #[test]
    fn internal_filter_classes() {
        use crate::cleanup_user::{FLAG_FILTER, FLAG_MILTER};
        let notify = |classes| int_filt_flags(classes, mail_src::NOTIFY);
        assert_eq!(notify(""), 0);
        assert_eq!(notify("bounce"), 0);
        assert_eq!(notify("notify"), FLAG_FILTER | FLAG_MILTER);
        let bounce = |classes| int_filt_flags(classes, mail_src::BOUNCE);
        assert_eq!(bounce("notify"), 0);
        assert_eq!(bounce("notify, bounce"), FLAG_FILTER | FLAG_MILTER);
    }
}
