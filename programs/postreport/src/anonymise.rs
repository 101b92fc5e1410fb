//! The Howto's anonymisation: in e-mail addresses and host names each letter becomes `A`
//! and each digit `D`, so helpers still see the shape (and the syntax errors) of a name
//! without learning it.
//!
//! Postfix counterpart: none; DEBUG_README's "Reporting problems" asks people to do this
//! by hand. The mapping is a pure function of the text, so the same name always gives the
//! same result, in every section of one report and between reports. Everything that is not
//! a name stays readable: parameter names, keywords, master.cf fields, paths, numbers,
//! versions, log severities, queue IDs and times.
//!
//! What counts as a name: a word (letters, digits and `.-_+@`) with an `@` in it (an
//! address, local part included); a dotted word whose last label is letters (a domain:
//! `mail.example.com`, but not `2.0.0`, `0.12` or `6.1.0-18-amd64`) and which is not a file
//! name (`main.cf`) or part of a path; an IPv4 address (four dotted numbers); an IPv6
//! address between brackets; the host field of a log line (the word before `name[pid]:`,
//! which syslog writes without dots); and the extra names given (the host's own name).

/// Labels that end file names rather than domains: `main.cf` is a file, not a host in
/// Central Africa.
const FILE_SUFFIXES: &[&str] = &[
    "cf", "db", "lmdb", "cdb", "pem", "key", "crt", "cert", "conf", "txt", "log", "pid", "lock",
    "sh", "pl", "py", "so", "rs", "html", "gz",
];

/// Anonymises names in text.
pub struct Anonymiser {
    /// Single-label names that are known to be this site's (the host name syslog uses).
    extra: Vec<String>,
}

/// Characters of a word that may be (part of) an address or host name.
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '@')
}

/// Each letter to `A`, each digit to `D`, everything else as is.
pub fn mask(word: &str) -> String {
    word.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                'A'
            } else if c.is_ascii_digit() {
                'D'
            } else {
                c
            }
        })
        .collect()
}

/// Whether `word` reads as a domain name: two or more labels, the last one letters only
/// (every top-level domain is), and not a file name suffix.
fn is_domain(word: &str) -> bool {
    let word = word.strip_suffix('.').unwrap_or(word);
    let labels: Vec<&str> = word.split('.').collect();
    // Empty labels are allowed: `smtp..isp.com` is a mistyped host name whose doubled dot
    // a helper must still see.
    if labels.iter().filter(|l| !l.is_empty()).count() < 2 {
        return false;
    }
    if !labels.iter().all(|l| {
        l.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }) {
        return false;
    }
    let last = labels[labels.len() - 1];
    last.len() >= 2
        && last.chars().all(|c| c.is_ascii_alphabetic())
        && !FILE_SUFFIXES.contains(&last.to_ascii_lowercase().as_str())
}

/// Whether `word` is a dotted-quad IPv4 address.
fn is_ipv4(word: &str) -> bool {
    word.parse::<std::net::Ipv4Addr>().is_ok()
}

/// A log line with its host field masked: the word before the first `program[pid]:` tag,
/// after the time stamp (`Dec  6 10:34:56 host postfix/smtpd[123]: ...`, or with an
/// RFC 3339 time).
fn mask_log_host(line: &str) -> std::borrow::Cow<'_, str> {
    // Each word with its offset (split_whitespace's slices point into the line).
    let words: Vec<(usize, &str)> = line
        .split_whitespace()
        .map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
        .collect();
    let is_tag = |word: &str| {
        word.strip_suffix("]:")
            .and_then(|w| w.rsplit_once('['))
            .is_some_and(|(name, pid)| !name.is_empty() && pid.chars().all(|c| c.is_ascii_digit()))
    };
    match words.iter().take(6).position(|(_, w)| is_tag(w)) {
        // A time stamp is not a host: a line written without a host field stays as is.
        Some(tag) if tag >= 2 && !words[tag - 1].1.contains(':') => {
            let (at, host) = words[tag - 1];
            let mut out = line[..at].to_string();
            out.push_str(&mask(host));
            out.push_str(&line[at + host.len()..]);
            std::borrow::Cow::Owned(out)
        }
        _ => std::borrow::Cow::Borrowed(line),
    }
}

impl Anonymiser {
    /// An anonymiser that also hides the single-label names in `extra` (whole words only).
    pub fn new(extra: impl IntoIterator<Item = String>) -> Anonymiser {
        Anonymiser {
            extra: extra.into_iter().filter(|n| !n.is_empty()).collect(),
        }
    }

    /// The text with every name masked.
    pub fn text(&self, text: &str) -> String {
        text.split_inclusive('\n')
            .map(|line| self.line(&mask_log_host(line)))
            .collect()
    }

    /// One line with every name masked.
    fn line(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut before: Option<char> = None;
        while let Some(c) = rest.chars().next() {
            if c == '[' {
                // An IPv6 address is only recognised between brackets, where Postfix writes
                // it ([2001:db8::1], [ipv6:...]); bare, it would be confused with times.
                if let Some(end) = rest.find(']') {
                    let inside = &rest[1..end];
                    let address = inside.strip_prefix("IPv6:").unwrap_or(inside);
                    let address = address.strip_prefix("ipv6:").unwrap_or(address);
                    if address.contains(':') && address.parse::<std::net::Ipv6Addr>().is_ok() {
                        out.push('[');
                        out.push_str(&inside[..inside.len() - address.len()]);
                        out.push_str(&mask(address));
                        out.push(']');
                        before = Some(']');
                        rest = &rest[end + 1..];
                        continue;
                    }
                }
            }
            if !word_char(c) {
                out.push(c);
                before = Some(c);
                rest = &rest[c.len_utf8()..];
                continue;
            }
            let end = rest.find(|c: char| !word_char(c)).unwrap_or(rest.len());
            let word = &rest[..end];
            let after = rest[end..].chars().next();
            let in_path = before == Some('/') || after == Some('/');
            if self.is_name(word, in_path) {
                out.push_str(&mask(word));
            } else {
                out.push_str(word);
            }
            before = word.chars().last();
            rest = &rest[end..];
        }
        out
    }

    /// Whether one word is a name to hide.
    fn is_name(&self, word: &str, in_path: bool) -> bool {
        if word.contains('@') {
            return word.chars().any(|c| c.is_ascii_alphanumeric());
        }
        if is_ipv4(word) {
            return true;
        }
        if self.extra.iter().any(|n| n == word) {
            return true;
        }
        !in_path && is_domain(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        Anonymiser::new(Vec::new()).text(text)
    }

    #[test]
    fn letters_and_digits_of_names() {
        assert_eq!(
            plain("myhostname = mail1.example.com"),
            "myhostname = AAAAD.AAAAAAA.AAA"
        );
        assert_eq!(
            plain("from=<wietse@porcupine.org>,"),
            "from=<AAAAAA@AAAAAAAAA.AAA>,"
        );
        assert_eq!(
            plain("inet_interfaces = 127.0.0.1"),
            "inet_interfaces = DDD.D.D.D"
        );
        assert_eq!(
            plain("relay=mx.example.net[192.0.2.7]:25, delay=0.12, dsn=2.0.0, status=sent"),
            "relay=AA.AAAAAAA.AAA[DDD.D.D.D]:25, delay=0.12, dsn=2.0.0, status=sent"
        );
    }

    #[test]
    fn syntax_errors_stay_visible() {
        // A helper must still see the missing label, the doubled dot and the stray comma.
        assert_eq!(
            plain("relayhost = [smtp..isp.com]"),
            "relayhost = [AAAA..AAA.AAA]"
        );
        assert_eq!(plain("user@@example.org"), "AAAA@@AAAAAAA.AAA");
        assert_eq!(plain("<a,b@x.org>"), "<a,A@A.AAA>");
    }

    #[test]
    fn keywords_parameters_and_paths_stay_readable() {
        let cases = [
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination",
            "alias_maps = hash:/etc/aliases",
            "warning: /etc/postfix/main.cf, line 3: missing '=' after attribute name",
            "compatibility_level = 3.6",
            "mail_version = 0.1.0",
            "Linux 6.1.0-18-amd64 x86_64",
            "Dec  6 10:34:56 postfix/smtpd[123]: 4F2A11C0E3: client=unknown",
            "smtp      inet  n       -       n       -       -       smtpd",
            "fatal: open main.cf: No such file or directory",
        ];
        for case in cases {
            assert_eq!(plain(case), case);
        }
    }

    #[test]
    fn ipv6_between_brackets() {
        assert_eq!(
            plain("client=unknown[2001:db8::1]"),
            "client=unknown[DDDD:AAD::D]"
        );
        assert_eq!(plain("mynetworks = [::1]/128"), "mynetworks = [::D]/128");
        // Times and other colon words outside brackets are not addresses.
        assert_eq!(
            plain("10:34:56 [not:an:address]"),
            "10:34:56 [not:an:address]"
        );
    }

    #[test]
    fn the_host_field_of_log_lines() {
        assert_eq!(
            plain("12:Dec 06 10:38:07 mail postfix/smtpd[28374]: fatal: the mail system\n"),
            "12:Dec 06 10:38:07 AAAA postfix/smtpd[28374]: fatal: the mail system\n"
        );
        assert_eq!(
            plain("2026-12-06T10:38:07.1+00:00 mx1 postfix/qmgr[7]: x\nmail postfix"),
            "2026-12-06T10:38:07.1+00:00 AAD postfix/qmgr[7]: x\nmail postfix"
        );
    }

    #[test]
    fn extra_names_are_whole_words() {
        let anon = Anonymiser::new(vec!["gateway".to_string()]);
        assert_eq!(
            anon.text("Dec  6 gateway postfix/qmgr[7]: gateway_count"),
            "Dec  6 AAAAAAA postfix/qmgr[7]: gateway_count"
        );
    }

    #[test]
    fn same_input_same_output() {
        let anon = Anonymiser::new(vec!["host7".to_string()]);
        let text = "to=<joe@mail.example.com>, relay=mail.example.com[10.0.0.1]:25 host7";
        let once = anon.text(text);
        assert_eq!(once, anon.text(text));
        assert_eq!(
            once,
            "to=<AAA@AAAA.AAAAAAA.AAA>, relay=AAAA.AAAAAAA.AAA[DD.D.D.D]:25 AAAAD"
        );
        // Masked text has nothing left to hide.
        assert_eq!(anon.text(&once), once);
    }
}
