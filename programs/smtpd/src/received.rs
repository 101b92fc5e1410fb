//! The Received: header smtpd puts at the top of each message.
//!
//! Postfix counterpart: the header in `data_cmd()` / `smtpd_start_message` of
//! `smtpd/smtpd.c`, with the TLS clause per `smtpd_tls_received_header` (crates/tls's
//! `Summary::received_clause`) and RFC 3848's protocol names (ESMTPS, ESMTPA, ESMTPSA):
//!
//! ```text
//! Received: from HELO (NAME [ADDR])
//!     (using TLSv1.3 with cipher ... (256/256 bits)
//!      key-exchange ...)
//!     (No client certificate requested)
//!     by MYHOSTNAME (Postfix) with ESMTPS id QUEUEID
//!     for <RECIPIENT>; DATE
//! ```
//!
//! (the continuation lines start with a tab). The `for` clause appears only for a
//! message with one recipient.

/// What the header says.
pub struct Received<'a> {
    /// The HELO name, else the client name.
    pub helo: Option<&'a str>,
    /// The client name (`unknown` without one).
    pub name: &'a str,
    /// The client address in RFC form (`IPv6:...`).
    pub rfc_addr: &'a str,
    /// `myhostname`.
    pub myhostname: &'a str,
    /// `mail_name`.
    pub mail_name: &'a str,
    /// `SMTP`, `ESMTP`...
    pub protocol: &'a str,
    /// The queue id.
    pub queue_id: &'a str,
    /// The recipient, when there is exactly one (internal form).
    pub recipient: Option<&'a str>,
    /// The arrival date, RFC 2822 form.
    pub date: &'a str,
    /// The TLS clause, its lines separated by `\n\t`, when it is to be shown.
    pub tls: Option<String>,
    /// The SASL login, when `smtpd_sasl_authenticated_header` shows it.
    pub sasl_username: Option<&'a str>,
}

impl Received<'_> {
    /// The header's lines, as separate records.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "Received: from {} ({} [{}])",
            self.helo.unwrap_or(self.name),
            self.name,
            self.rfc_addr
        )];
        if let Some(clause) = &self.tls {
            lines.extend(clause.split("\n\t").map(|part| format!("\t{part}")));
        }
        if let Some(user) = self.sasl_username {
            lines.push(format!("\t(Authenticated sender: {user})"));
        }
        let by = format!(
            "\tby {} ({}) with {} id {}",
            self.myhostname, self.mail_name, self.protocol, self.queue_id
        );
        match self.recipient {
            Some(rcpt) => {
                lines.push(by);
                let quoted =
                    rfc822::quote::quote_822_local(rcpt, rfc822::quote::QuoteFlags::DEFAULT);
                lines.push(format!("\tfor <{quoted}>; {}", self.date));
            }
            None => {
                lines.push(format!("{by};"));
                lines.push(format!("\t{}", self.date));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_postfix_writes_it() {
        let mut received = Received {
            helo: Some("client.example"),
            name: "localhost",
            rfc_addr: "127.0.0.1",
            myhostname: "mail.example",
            mail_name: "Postfix",
            protocol: "ESMTP",
            queue_id: "4ABC",
            recipient: Some("u@example.com"),
            date: "Sun,  6 Dec 2026 08:00:00 +0000 (UTC)",
            tls: None,
            sasl_username: None,
        };
        assert_eq!(
            received.lines(),
            [
                "Received: from client.example (localhost [127.0.0.1])",
                "\tby mail.example (Postfix) with ESMTP id 4ABC",
                "\tfor <u@example.com>; Sun,  6 Dec 2026 08:00:00 +0000 (UTC)",
            ]
        );
        received.recipient = None;
        assert_eq!(
            received.lines()[1],
            "\tby mail.example (Postfix) with ESMTP id 4ABC;"
        );
    }
}
