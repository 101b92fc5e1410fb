//! The log lines that tools parse (pflogsumm, fail2ban, people's greps), each written by
//! one function so that its words and order live in one place.
//!
//! Postfix counterparts: `smtpd.c` (`connect from`, `client=`, `disconnect from`, the
//! `%s after %s from %s` lines of `smtpd_proto()`) and `smtpd_check.c`'s `log_whatsup()`
//! (`NOQUEUE: reject: RCPT from ...; from=<...> to=<...> proto=ESMTP helo=<...>`).

/// `connect from name[addr]`.
pub fn connect(namaddr: &str) {
    log::msg_info!("connect from {namaddr}");
    log::work::session(namaddr);
}

/// `QUEUEID: client=name[addr]`, when the queue file is opened; `sasl` is
/// `, sasl_method=PLAIN, sasl_username=user` after AUTH, else empty.
pub fn client(queue_id: &str, namaddr: &str, sasl: &str) {
    log::msg_info!("{queue_id}: client={namaddr}{sasl}");
}

/// `disconnect from name[addr] ehlo=1 ... commands=N`.
pub fn disconnect(namaddr: &str, stats: &str) {
    log::msg_info!("disconnect from {namaddr}{stats}");
}

/// Why a session ended early (`REASON_*` in smtpd.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The client went away.
    Lost,
    /// The client said nothing for `smtpd_timeout`.
    Timeout,
    /// The client made `smtpd_hard_error_limit` errors.
    TooManyErrors,
}

impl Reason {
    /// The reason as the log line and the postmaster's notice say it.
    pub fn text(self) -> &'static str {
        match self {
            Reason::Lost => "lost connection",
            Reason::Timeout => "timeout",
            Reason::TooManyErrors => "too many errors",
        }
    }
}

/// Where in the session it ended: after a command, or inside message content (whose
/// byte count is logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// After the command (or `CONNECT`, `END-OF-MESSAGE`, `UNKNOWN`).
    After(&'static str),
    /// Reading DATA content, so many bytes in.
    DataContent(u64),
    /// Reading a BDAT chunk, so many bytes in.
    BdatContent(u64),
}

/// What the end of a message is called in logs (`SMTPD_AFTER_EOM`).
pub const END_OF_MESSAGE: &str = "END-OF-MESSAGE";

impl Stage {
    /// The stage's name in `reject:` lines.
    pub fn name(&self) -> &'static str {
        match self {
            Stage::After(name) => name,
            Stage::DataContent(_) => "DATA",
            Stage::BdatContent(_) => "BDAT",
        }
    }
}

/// `lost connection after RCPT from name[addr]`, `timeout after DATA (123 bytes) from
/// ...`. Like Postfix, a client that hangs up right after its message is not worth a line.
pub fn ended(reason: Reason, stage: &Stage, namaddr: &str) {
    let reason = reason.text();
    match stage {
        Stage::DataContent(n) => log::msg_info!("{reason} after DATA ({n} bytes) from {namaddr}"),
        Stage::BdatContent(n) => log::msg_info!("{reason} after BDAT ({n} bytes) from {namaddr}"),
        Stage::After(END_OF_MESSAGE) if reason == Reason::Lost.text() => {}
        Stage::After(name) => log::msg_info!("{reason} after {name} from {namaddr}"),
    }
}

/// The parts of a `log_whatsup()` line.
#[derive(Debug, Clone, Default)]
pub struct Whatsup<'a> {
    /// The queue id, or None for `NOQUEUE`.
    pub queue_id: Option<&'a str>,
    /// `reject`, `reject_warning`, `hold`, `discard`, `warn`...
    pub action: &'a str,
    /// The command (`RCPT`, `END-OF-MESSAGE`...).
    pub stage: &'a str,
    /// `name[addr]`.
    pub namaddr: &'a str,
    /// The reply or reason.
    pub text: &'a str,
    /// The sender, in log form, when in a transaction.
    pub sender: Option<&'a str>,
    /// The recipient, in log form, when known.
    pub recipient: Option<&'a str>,
    /// `SMTP` or `ESMTP`.
    pub protocol: &'a str,
    /// The HELO name, when given.
    pub helo: Option<&'a str>,
}

impl Whatsup<'_> {
    /// The line's text.
    pub fn text(&self) -> String {
        let mut line = format!(
            "{}: {}: {} from {}: {};",
            self.queue_id.unwrap_or("NOQUEUE"),
            self.action,
            self.stage,
            self.namaddr,
            self.text
        );
        if let Some(sender) = self.sender {
            line.push_str(&format!(" from=<{sender}>"));
        }
        if let Some(recipient) = self.recipient {
            line.push_str(&format!(" to=<{recipient}>"));
        }
        line.push_str(&format!(" proto={}", self.protocol));
        if let Some(helo) = self.helo {
            line.push_str(&format!(" helo=<{helo}>"));
        }
        line
    }

    /// Logs the line.
    pub fn log(&self) {
        log::msg_info!("{}", self.text());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsup_as_postfix_writes_it() {
        let line = Whatsup {
            action: "reject",
            stage: "RCPT",
            namaddr: "unknown[127.0.0.2]",
            text: "554 5.7.1 <x@example.com>: Relay access denied",
            sender: Some(""),
            recipient: Some("x@example.com"),
            protocol: "ESMTP",
            helo: Some("client.example"),
            ..Whatsup::default()
        };
        assert_eq!(
            line.text(),
            "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <x@example.com>: \
             Relay access denied; from=<> to=<x@example.com> proto=ESMTP helo=<client.example>"
        );
        let bare = Whatsup {
            queue_id: Some("ABC"),
            action: "reject",
            stage: "NOOP",
            namaddr: "localhost[127.0.0.1]",
            text: "bare <LF> received",
            protocol: "SMTP",
            ..Whatsup::default()
        };
        assert_eq!(
            bare.text(),
            "ABC: reject: NOOP from localhost[127.0.0.1]: bare <LF> received; proto=SMTP"
        );
    }
}
