//! Which names a server certificate must match at the verify and secure levels, and
//! whether it does.
//!
//! Postfix counterpart: `add_namechecks()` in `tls/tls_client.c`, which turns
//! smtp_tls_verify_cert_match / smtp_tls_secure_cert_match (or a policy's `match=`)
//! into names for OpenSSL's `X509_check_host()` with `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS`.
//! `hostname` is the server's name, `nexthop` the next-hop domain, `dot-nexthop` any
//! subdomain of it; any other word is a name, or with a leading dot its subdomains. The
//! certificate's dNSName subjectAltNames are compared, or its common name when it has no
//! dNSName; a wildcard only as a whole leftmost label (`*.example.com`, never
//! `mx*.example.com`) and never over a top-level domain alone. A name that is an IP
//! address is compared with the certificate's iPAddress entries only.

use std::net::IpAddr;

use crate::der::CertInfo;

/// One name the certificate may match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// Exactly this host name (case-insensitive), or a wildcard covering it.
    Host(String),
    /// Any name below this domain (`.example.com`).
    Subdomain(String),
    /// This address.
    Ip(IpAddr),
}

impl Reference {
    /// The name as a match list writes it.
    pub fn text(&self) -> String {
        match self {
            Reference::Host(name) => name.clone(),
            Reference::Subdomain(domain) => format!(".{domain}"),
            Reference::Ip(ip) => ip.to_string(),
        }
    }
}

/// Turns match patterns into reference names for a server `host` reached as next hop
/// `nexthop`; `warn` gets Postfix's warning for a lone `.`.
pub fn references(
    patterns: &[String],
    host: &str,
    nexthop: &str,
    warn: &mut dyn FnMut(String),
) -> Vec<Reference> {
    let mut out = Vec::new();
    for pattern in patterns {
        let (name, subdomain) = match pattern.to_ascii_lowercase().as_str() {
            "nexthop" => (nexthop.to_string(), false),
            "dot-nexthop" => (nexthop.to_string(), true),
            "hostname" => (host.to_string(), false),
            _ => match pattern.strip_prefix('.') {
                Some("") => {
                    warn("ignoring invalid match name: \".\"".to_string());
                    continue;
                }
                Some(rest) => (rest.to_string(), true),
                None => (pattern.clone(), false),
            },
        };
        let reference = match (name.parse::<IpAddr>(), subdomain) {
            (Ok(ip), false) => Reference::Ip(ip),
            (_, true) => Reference::Subdomain(name.to_ascii_lowercase()),
            (_, false) => Reference::Host(name.to_ascii_lowercase()),
        };
        out.push(reference);
    }
    out
}

/// Why no reference matched, as OpenSSL numbers and words it.
pub fn mismatch(references: &[Reference]) -> (u32, &'static str) {
    // OpenSSL checks the host names before the addresses and reports the first kind
    // that was asked for.
    if references.iter().any(|r| !matches!(r, Reference::Ip(_))) {
        (62, "hostname mismatch")
    } else {
        (64, "IP address mismatch")
    }
}

/// The reference name that `cert` matches, if any.
pub fn matched<'a>(cert: &CertInfo, references: &'a [Reference]) -> Option<&'a Reference> {
    references.iter().find(|r| matches_one(cert, r))
}

fn matches_one(cert: &CertInfo, reference: &Reference) -> bool {
    if let Reference::Ip(ip) = reference {
        let want: Vec<u8> = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        return cert.ip_addrs.contains(&want);
    }
    let names: Vec<&str> = if cert.dns_names.is_empty() {
        cert.subject_cn.as_deref().into_iter().collect()
    } else {
        cert.dns_names.iter().map(String::as_str).collect()
    };
    names
        .iter()
        .any(|name| name_matches(&name.to_ascii_lowercase(), reference))
}

/// One certificate name against one reference.
fn name_matches(name: &str, reference: &Reference) -> bool {
    let name = name.trim_end_matches('.');
    match reference {
        Reference::Host(host) => {
            let host = host.trim_end_matches('.');
            name == host
                || wildcard_base(name).is_some_and(|base| {
                    host.split_once('.')
                        .is_some_and(|(label, rest)| !label.is_empty() && rest == base)
                })
        }
        Reference::Subdomain(domain) => {
            let suffix = format!(".{}", domain.trim_end_matches('.'));
            // A wildcard stands for one label, so it is below the domain when its base
            // is the domain or below it.
            let target = match wildcard_base(name) {
                Some(base) => format!("x.{base}"),
                None => name.to_string(),
            };
            target.len() > suffix.len() && target.ends_with(&suffix)
        }
        Reference::Ip(_) => false,
    }
}

/// For `*.example.com` the base `example.com`, when it has at least two labels.
fn wildcard_base(name: &str) -> Option<&str> {
    let base = name.strip_prefix("*.")?;
    (base.contains('.') && !base.starts_with('.') && !base.contains('*')).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(dns: &[&str], cn: Option<&str>) -> CertInfo {
        CertInfo {
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            subject_cn: cn.map(str::to_string),
            ..CertInfo::default()
        }
    }

    fn refs(patterns: &[&str]) -> Vec<Reference> {
        let patterns: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        references(&patterns, "mx1.example.com", "example.com", &mut |_| {})
    }

    #[test]
    fn patterns_resolve_as_postfix_does() {
        assert_eq!(
            refs(&[
                "hostname",
                "nexthop",
                "dot-nexthop",
                ".Other.org",
                "127.0.0.1"
            ]),
            [
                Reference::Host("mx1.example.com".into()),
                Reference::Host("example.com".into()),
                Reference::Subdomain("example.com".into()),
                Reference::Subdomain("other.org".into()),
                Reference::Ip("127.0.0.1".parse().unwrap()),
            ]
        );
        let mut warned = Vec::new();
        let lone = [".".to_string()];
        assert!(references(&lone, "h", "n", &mut |w| warned.push(w)).is_empty());
        assert_eq!(warned, ["ignoring invalid match name: \".\""]);
    }

    #[test]
    fn names_wildcards_and_subdomains() {
        let plain = cert(&["mx1.example.com"], Some("ignored.example"));
        assert!(matched(&plain, &refs(&["hostname"])).is_some());
        assert!(matched(&plain, &refs(&["nexthop"])).is_none());
        assert!(matched(&plain, &refs(&["dot-nexthop"])).is_some());
        assert!(matched(&plain, &refs(&["ignored.example"])).is_none());
        let wild = cert(&["*.example.com"], None);
        assert!(matched(&wild, &refs(&["hostname"])).is_some());
        assert!(matched(&wild, &refs(&["nexthop"])).is_none());
        assert!(matched(&wild, &refs(&["dot-nexthop"])).is_some());
        assert!(matched(&cert(&["mx*.example.com"], None), &refs(&["hostname"])).is_none());
        assert!(matched(&cert(&["*.com"], None), &refs(&["nexthop"])).is_none());
        // The common name only without dNSName entries.
        assert!(matched(&cert(&[], Some("MX1.example.com")), &refs(&["hostname"])).is_some());
        let ip = CertInfo {
            ip_addrs: vec![vec![127, 0, 0, 1]],
            ..cert(&["127.0.0.1"], None)
        };
        assert!(matched(&ip, &refs(&["127.0.0.1"])).is_some());
        assert!(matched(&cert(&["127.0.0.1"], None), &refs(&["127.0.0.1"])).is_none());
        assert_eq!(mismatch(&refs(&["127.0.0.1"])).0, 64);
        assert_eq!(mismatch(&refs(&["hostname", "127.0.0.1"])).0, 62);
    }
}
