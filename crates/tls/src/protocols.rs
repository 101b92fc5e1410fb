//! smtpd_tls_protocols / smtpd_tls_mandatory_protocols in Postfix's syntax, and what of
//! it rustls can honour. Postfix counterpart: `tls_protocol_mask()` in `tls/tls_misc.c`.
//!
//! Postfix accepts a list separated by commas, colons or white space of protocol names
//! (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3), each either included (`TLSv1.2`),
//! excluded (`!SSLv3`), or a bound (`>=TLSv1.2`, `<=TLSv1.3`, Postfix 3.6+). Names
//! included plainly exclude every name not listed. rustls speaks only TLS 1.2 and 1.3, so
//! a list that allows SSLv3, TLSv1 or TLSv1.1 is honoured for the versions rustls has and
//! those older versions are simply never negotiated (they are obsolete and unsafe; clients
//! that know only them cannot use STARTTLS, as with an OpenSSL built without them).

/// Postfix's protocol names, oldest first.
const NAMES: [&str; 6] = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// The protocols a list allows, as a bit set over [`NAMES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Protocols(u8);

/// A list Postfix would refuse; Postfix's text is `Invalid TLS protocol list "LIST":
/// disabling TLS support`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidProtocols(pub String);

impl std::fmt::Display for InvalidProtocols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Invalid TLS protocol list \"{}\": disabling TLS support",
            self.0
        )
    }
}

fn index(name: &str) -> Option<u8> {
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .map(|i| i as u8)
}

impl Protocols {
    /// Parses a list as Postfix does. An empty list allows everything.
    pub fn parse(list: &str) -> Result<Protocols, InvalidProtocols> {
        let invalid = || InvalidProtocols(list.to_string());
        let all = (1u8 << NAMES.len()) - 1;
        let (mut include, mut exclude) = (0u8, 0u8);
        let (mut min, mut max) = (0u8, NAMES.len() as u8 - 1);
        for token in list
            .split([',', ':', ' ', '\t', '\r', '\n'])
            .filter(|t| !t.is_empty())
        {
            if let Some(name) = token.strip_prefix('!') {
                exclude |= 1 << index(name).ok_or_else(invalid)?;
            } else if let Some(name) = token.strip_prefix(">=") {
                min = min.max(index(name).ok_or_else(invalid)?);
            } else if let Some(name) = token.strip_prefix("<=") {
                max = max.min(index(name).ok_or_else(invalid)?);
            } else {
                include |= 1 << index(token).ok_or_else(invalid)?;
            }
        }
        let bounds = (min..=max).fold(0u8, |acc, i| acc | 1 << i);
        let base = if include == 0 { all } else { include };
        Ok(Protocols(base & !exclude & bounds))
    }

    /// Whether `name` (one of Postfix's protocol names) is allowed.
    pub fn allows(self, name: &str) -> bool {
        index(name).is_some_and(|i| self.0 & (1 << i) != 0)
    }

    /// The rustls versions the list allows, newest first; empty when it allows none of
    /// TLS 1.2 and 1.3.
    pub fn rustls_versions(self) -> Vec<&'static rustls::SupportedProtocolVersion> {
        let mut out = Vec::new();
        if self.allows("TLSv1.3") {
            out.push(&rustls::version::TLS13);
        }
        if self.allows("TLSv1.2") {
            out.push(&rustls::version::TLS12);
        }
        out
    }

    /// The allowed versions rustls cannot speak (for a warning at start-up).
    pub fn not_honoured(self) -> Vec<&'static str> {
        NAMES[..4]
            .iter()
            .copied()
            .filter(|n| self.allows(n))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(list: &str) -> Vec<&'static str> {
        let p = Protocols::parse(list).unwrap();
        NAMES.iter().copied().filter(|n| p.allows(n)).collect()
    }

    #[test]
    fn postfix_forms() {
        assert_eq!(allowed(">=TLSv1.2"), ["TLSv1.2", "TLSv1.3"]);
        assert_eq!(
            allowed("!SSLv2, !SSLv3, !TLSv1"),
            ["TLSv1.1", "TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(
            allowed("!SSLv2:!SSLv3"),
            ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(allowed("TLSv1.3"), ["TLSv1.3"]);
        assert_eq!(
            allowed(">=TLSv1 <=TLSv1.2"),
            ["TLSv1", "TLSv1.1", "TLSv1.2"]
        );
        assert_eq!(allowed(""), NAMES);
        assert_eq!(allowed("tlsv1.2"), ["TLSv1.2"]);
    }

    #[test]
    fn rustls_side() {
        let p = Protocols::parse(">=TLSv1").unwrap();
        assert_eq!(p.rustls_versions().len(), 2);
        assert_eq!(p.not_honoured(), ["TLSv1", "TLSv1.1"]);
        assert!(
            Protocols::parse("<=TLSv1.1")
                .unwrap()
                .rustls_versions()
                .is_empty()
        );
    }

    #[test]
    fn invalid_lists() {
        let err = Protocols::parse("!SSLv3, TLSv9").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Invalid TLS protocol list \"!SSLv3, TLSv9\": disabling TLS support"
        );
        assert!(Protocols::parse(">=").is_err());
    }
}
