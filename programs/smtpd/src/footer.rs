//! `smtpd_reject_footer` and `smtpd_reject_footer_maps`: text added to every 4xx and 5xx
//! reply.
//!
//! Postfix counterparts: `global/smtp_reply_footer.c`, the footer part of
//! `vsmtpd_chat_reply()` in `smtpd/smtpd_chat.c`, and `smtpd/smtpd_expand.c`. The footer
//! is split into lines at the two characters `\n`; each line gets the reply's code and
//! enhanced status code, unless the footer starts with `\c`, which joins its first line to
//! the reply's last. `$server_name`, `$client_address`, `$client_port`, `$client_name`,
//! `$reverse_client_name`, `$client`, `$helo_name`, `$sender`, `$recipient` (and their
//! `_name`/`_domain` parts) and `$localtime` are expanded, each byte of their values that
//! `smtpd_expansion_filter` does not list replaced by `_`; an unknown name leaves the
//! reply as it was. The log shows the reply without the footer, as Postfix's does. DNS
//! list reply templates ([`crate::check`]'s rbl module) expand the same names.
//! Postfix counterpart of the filter: the `filter` argument of `util/mac_expand.c`.

use util::mac_expand::{self, Flags, Mode};

/// What the footer's macros stand for.
pub struct Context<'a> {
    /// `myhostname`.
    pub server_name: &'a str,
    /// `name[addr]`.
    pub client: &'a str,
    /// The client address.
    pub client_address: &'a str,
    /// The client port.
    pub client_port: &'a str,
    /// The verified client name.
    pub client_name: &'a str,
    /// The unverified reverse name.
    pub reverse_client_name: &'a str,
    /// The HELO name.
    pub helo_name: Option<&'a str>,
    /// MAIL FROM, in a transaction.
    pub sender: Option<&'a str>,
    /// The recipient.
    pub recipient: Option<&'a str>,
    /// `smtpd_expansion_filter`, unescaped: the bytes a value may keep.
    pub filter: &'a [u8],
}

impl Context<'_> {
    /// `smtpd_expand_lookup()`, the value filtered; None for an unknown name (with
    /// Postfix's warning).
    pub fn lookup(&self, name: &str) -> Option<String> {
        let value = match name {
            "server_name" => self.server_name.to_string(),
            "client" => self.client.to_string(),
            "client_address" => self.client_address.to_string(),
            "client_port" => self.client_port.to_string(),
            "client_name" => self.client_name.to_string(),
            "reverse_client_name" => self.reverse_client_name.to_string(),
            "helo_name" => self.helo_name.unwrap_or_default().to_string(),
            "localtime" => localtime(),
            _ => {
                if let Some(part) = name.strip_prefix("sender") {
                    address_part(self.sender, part)?
                } else if let Some(part) = name.strip_prefix("recipient") {
                    address_part(self.recipient, part)?
                } else {
                    log::msg_warn!("unknown macro name \"{name}\" in expansion request");
                    return None;
                }
            }
        };
        Some(filtered(&value, self.filter))
    }
}

/// `smtpd_expand_addr()`: the address, its local part (`_name`) or its domain
/// (`_domain`); empty outside a transaction, `<>` for the null address and its local
/// part.
fn address_part(address: Option<&str>, part: &str) -> Option<String> {
    let Some(address) = address else {
        return Some(String::new());
    };
    let (local, domain) = match address {
        "" => ("<>", ""),
        _ => address.rsplit_once('@').unwrap_or((address, "")),
    };
    match part {
        "" if address.is_empty() => Some("<>".to_string()),
        "" => Some(address.to_string()),
        "_name" => Some(local.to_string()),
        "_domain" => Some(domain.to_string()),
        _ => {
            log::msg_warn!("unknown macro name \"{part}\" in expansion request");
            None
        }
    }
}

/// The value with every byte that `filter` does not list made `_` (a character of two
/// UTF-8 bytes becomes two), as mac_expand() filters looked-up values.
pub fn filtered(value: &str, filter: &[u8]) -> String {
    let bytes: Vec<u8> = util::eight_bit::to_bytes(value)
        .iter()
        .map(|b| if filter.contains(b) { *b } else { b'_' })
        .collect();
    util::eight_bit::to_text(&bytes).into_owned()
}

/// Now as `%b %d %H:%M:%S` in local time.
fn localtime() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let date = global::mail_date::mail_date(now);
    // "Sun, 06 Dec 2026 10:33:13 +0000 (UTC)": day, month and time.
    let words: Vec<&str> = date.split_whitespace().collect();
    match words.as_slice() {
        [_, day, month, _, time, ..] => format!("{month} {day:0>2} {time}"),
        _ => date,
    }
}

/// `smtp_reply_footer()`: `reply` (lines joined by CRLF) with `template` added, or None
/// when the reply is not a reply or the template does not expand.
pub fn apply(reply: &str, template: &str, context: &Context) -> Option<String> {
    let last = reply.rsplit("\r\n").next().unwrap_or(reply);
    let b = last.as_bytes();
    if b.len() < 4 || !b[..3].iter().all(u8::is_ascii_digit) || !matches!(b[3], b' ' | b'-') {
        return None;
    }
    let code = &last[..3];
    let dsn = &last[4..4 + global::dsn_util::dsn_valid(&last[4..])];
    let mut out = reply.to_string();
    let pieces: Vec<&str> = template.split("\\n").collect();
    let mut added = false;
    for (i, piece) in pieces.iter().enumerate() {
        let piece = match piece.strip_prefix("\\c").filter(|_| i == 0) {
            Some(rest) => rest,
            None => {
                out.push_str("\r\n");
                out.push_str(code);
                out.push(if i + 1 < pieces.len() { '-' } else { ' ' });
                if !dsn.is_empty() {
                    out.push_str(dsn);
                    out.push(' ');
                }
                added = true;
                piece
            }
        };
        let mut failed = false;
        let expanded = mac_expand::expand(piece, Flags::default(), |name, _: Mode| {
            let value = context.lookup(name);
            failed |= value.is_none();
            value
        });
        match expanded {
            Ok(e) if !failed => out.push_str(&e.text),
            _ => return None,
        }
    }
    if added {
        // The reply's own last line is no longer the last.
        let at = reply.len() - last.len() + 3;
        out.replace_range(at..at + 1, "-");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context<'static> {
        Context {
            server_name: "mail.example",
            client: "host[192.0.2.1]",
            client_address: "192.0.2.1",
            client_port: "4321",
            client_name: "host",
            reverse_client_name: "host",
            helo_name: None,
            sender: Some("a@example.org"),
            recipient: None,
            filter: DEFAULT_FILTER,
        }
    }

    /// smtpd_expansion_filter's default, unescaped.
    const DEFAULT_FILTER: &[u8] =
        b"\t !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";

    #[test]
    fn values_keep_only_filter_bytes() {
        assert_eq!(filtered("a b\tc", DEFAULT_FILTER), "a b\tc");
        assert_eq!(filtered("x\ny\u{e9}", DEFAULT_FILTER), "x_y__");
        assert_eq!(filtered("abc-1", b"abc"), "abc__");
        let mut c = context();
        c.sender = Some("");
        assert_eq!(c.lookup("sender").unwrap(), "<>");
        assert_eq!(c.lookup("sender_name").unwrap(), "<>");
        assert_eq!(c.lookup("sender_domain").unwrap(), "");
        assert_eq!(c.lookup("recipient").unwrap(), "");
    }

    #[test]
    fn footers_as_postfix_adds_them() {
        let c = context();
        assert_eq!(
            apply(
                "550 5.1.1 no",
                "Contact $server_name for $client_address",
                &c
            )
            .unwrap(),
            "550-5.1.1 no\r\n550 5.1.1 Contact mail.example for 192.0.2.1"
        );
        assert_eq!(
            apply("451 later", "\\c (ask $sender_domain)\\nline two", &c).unwrap(),
            "451-later (ask example.org)\r\n451 line two"
        );
        assert_eq!(apply("550 5.1.1 no", "$bogus", &c), None);
    }
}
