//! The session transcript smtpd keeps, and the postmaster notice made from it when the
//! session had errors of a class that notify_classes names.
//!
//! Postfix counterpart: `smtpd/smtpd_chat.c` (`smtp_chat_append()`, `smtpd_chat_reset()`,
//! `smtpd_chat_notify()`) and `chat_reset()` in `smtpd/smtpd.c`. Every command line read
//! is kept as `In:  line`, every reply line sent as `Out: line`, but only when
//! notify_classes names some class at all. Each error adds its class to the session's
//! error mask. At the end of the session, and when a transaction ends (HELO, EHLO,
//! RSET, the end of a message) with more than smtpd_history_flush_threshold lines kept,
//! the postmaster is sent the transcript if the mask meets notify_classes; the
//! transcript and the mask then start over.

use global::chat_notify::{History, Notifier, mail_error};
use params::decl::smtpd::SMTPD_HISTORY_FLUSH_THRESHOLD;
use params::{Config, ConfigError};
use smtp_proto::{ErrorClass, Reply};

/// What the notices need from main.cf.
pub struct Settings {
    /// notify_classes, the recipients and how notices are posted.
    notifier: Notifier,
    /// smtpd_history_flush_threshold.
    pub flush_threshold: usize,
}

impl Settings {
    /// Reads the settings.
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        Ok(Settings {
            notifier: Notifier::from_config(config)?,
            flush_threshold: usize::try_from(config.int(&SMTPD_HISTORY_FLUSH_THRESHOLD)?)
                .unwrap_or(0),
        })
    }
}

/// One session's transcript and error classes (Postfix's `state->history` and
/// `state->error_mask`).
#[derive(Default)]
pub struct Chat {
    history: History,
    error_mask: u32,
}

impl Chat {
    /// Keeps a command line the client sent.
    pub fn command(&mut self, settings: &Settings, line: &[u8]) {
        if settings.notifier.mask != 0 {
            self.history
                .append("In:  ", &util::eight_bit::to_text(line));
        }
    }

    /// Keeps the lines of a reply as they went out.
    pub fn reply(&mut self, settings: &Settings, reply: &Reply) {
        if settings.notifier.mask != 0 {
            for line in reply.lines() {
                self.history
                    .append("Out: ", &util::eight_bit::to_text(line));
            }
        }
    }

    /// Adds an error's class to the session's mask.
    pub fn error(&mut self, class: ErrorClass) {
        self.error_mask |= match class {
            ErrorClass::Protocol => mail_error::PROTOCOL,
            ErrorClass::Policy => mail_error::POLICY,
            ErrorClass::Bounce => mail_error::BOUNCE,
            ErrorClass::Resource => mail_error::RESOURCE,
            ErrorClass::Software => mail_error::SOFTWARE,
        };
    }

    /// A message went into the queue: earlier errors no longer count.
    pub fn queued(&mut self) {
        self.error_mask = 0;
    }

    /// Adds the class of cleanup's refusal of a message (`status`, with cleanup's reply
    /// text `why`), as Postfix's end-of-message code classifies it.
    pub fn cleanup_error(&mut self, status: u32, why: &str) {
        use global::cleanup_user as c;
        let smtp_reject = why
            .as_bytes()
            .first()
            .is_some_and(|&b| b == b'4' || b == b'5')
            && why
                .as_bytes()
                .get(1..3)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && matches!(why.as_bytes().get(3), Some(b' ' | b'-'));
        self.error_mask |= if smtp_reject || status & (c::STAT_DEFER | c::STAT_CONT) != 0 {
            mail_error::POLICY
        } else if status & c::STAT_BAD != 0 {
            mail_error::SOFTWARE
        } else if status & (c::STAT_SIZE | c::STAT_HOPS) != 0 {
            mail_error::BOUNCE
        } else if status & c::STAT_WRITE != 0 {
            mail_error::RESOURCE
        } else {
            mail_error::SOFTWARE
        };
    }

    /// When more than `threshold` lines are kept: mails the postmaster the transcript
    /// if the errors call for it (never in stand-alone mode, which has no cleanup
    /// service to post through), then starts over (`chat_reset()`). `reason` is why the
    /// session broke off, if it did.
    pub fn reset(
        &mut self,
        settings: &Settings,
        threshold: usize,
        namaddr: &str,
        reason: Option<&str>,
        stand_alone: bool,
    ) {
        if self.history.len() <= threshold {
            return;
        }
        if !stand_alone && settings.notifier.wanted(self.error_mask) {
            self.notify(settings, namaddr, reason);
        }
        self.error_mask = 0;
        self.history.clear();
    }

    /// The notice (`smtpd_chat_notify()`): a message refused as too big goes to
    /// bounce_notice_recipient, anything else to error_notice_recipient.
    fn notify(&self, settings: &Settings, namaddr: &str, reason: Option<&str>) {
        let notifier = &settings.notifier;
        let recipient = if self.error_mask & mail_error::BOUNCE != 0 {
            &notifier.bounce_rcpt
        } else {
            &notifier.error_rcpt
        };
        let subject = format!("{} SMTP server: errors from {namaddr}", notifier.mail_name);
        let preface = ["", "Transcript of session follows.", ""].map(String::from);
        let mut trailer = vec![String::new()];
        if let Some(reason) = reason {
            trailer.push(format!("Session aborted, reason: {reason}"));
        }
        trailer.push(String::new());
        trailer.push("For other details, see the local mail logfile".into());
        notifier.send(recipient, &subject, &preface, &self.history, &trailer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn settings(main_cf: &str) -> Settings {
        let main = params::main_cf::MainCf::parse(Path::new("main.cf"), main_cf).unwrap();
        let config = Config::new(Path::new("/nonexistent"), main);
        Settings::from_config(&config).unwrap()
    }

    #[test]
    fn nothing_is_kept_when_no_class_is_to_be_reported() {
        let settings = settings("notify_classes =\n");
        let mut chat = Chat::default();
        chat.command(&settings, b"BOGUS");
        chat.reply(
            &settings,
            &Reply::new("500 5.5.2 Error: command not recognized"),
        );
        assert!(chat.history.is_empty());
    }

    #[test]
    fn the_transcript_is_kept_until_past_the_threshold() {
        let settings = settings("notify_classes = protocol\nsmtpd_history_flush_threshold = 3\n");
        assert_eq!(settings.flush_threshold, 3);
        let mut chat = Chat::default();
        chat.reply(&settings, &Reply::multiline(250, ["host", "PIPELINING"]));
        chat.command(&settings, b"BOGUS");
        chat.error(ErrorClass::Protocol);
        assert_eq!(chat.history.len(), 3);
        // Stand-alone: nothing is posted, but the reset happens past the threshold.
        chat.reset(&settings, 3, "localhost[127.0.0.1]", None, true);
        assert_eq!(
            (chat.history.len(), chat.error_mask),
            (3, mail_error::PROTOCOL)
        );
        chat.reset(&settings, 2, "localhost[127.0.0.1]", None, true);
        assert_eq!((chat.history.len(), chat.error_mask), (0, 0));
    }

    #[test]
    fn cleanup_refusals_are_classified_as_postfix_does() {
        use global::cleanup_user as c;
        let cases = [
            (c::STAT_CONT, "550 5.7.1 no thanks", mail_error::POLICY),
            (c::STAT_DEFER, "", mail_error::POLICY),
            (c::STAT_SIZE, "", mail_error::BOUNCE),
            (c::STAT_WRITE, "", mail_error::RESOURCE),
            (c::STAT_BAD, "", mail_error::SOFTWARE),
        ];
        for (status, why, class) in cases {
            let mut chat = Chat::default();
            chat.cleanup_error(status, why);
            assert_eq!(chat.error_mask, class, "{status} {why}");
        }
    }
}
