//! `cidr:` tables: network/prefix patterns, the first match wins.
//!
//! Postfix counterparts: `util/dict_cidr.c` and `cidr_match.c`. Rules are tried in file
//! order; `!` negates a pattern; `if pattern` ... `endif` blocks are skipped when their
//! pattern does not match. A pattern without `/len` is one address; `[...]` brackets are
//! allowed around IPv6 (and IPv4) patterns. A network with host bits set is rejected with
//! Postfix's hint. Rules with errors are skipped with a warning naming the line.

use crate::pattern::{keyword, negations};
use crate::{Dict, DictError, source};
use std::net::IpAddr;

/// One parsed network pattern, as `cidr_match_parse()` makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u32,
    /// True unless negated with `!`.
    match_wanted: bool,
}

impl Net {
    /// Whether `query` is inside the network (inverted for a negated pattern).
    pub fn contains(&self, query: &IpAddr) -> bool {
        let inside = match (self.addr, query) {
            (IpAddr::V4(net), IpAddr::V4(q)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(net) & mask == u32::from(*q) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(q)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(net) & mask == u128::from(*q) & mask
            }
            _ => return false,
        };
        inside == self.match_wanted
    }
}

enum Rule {
    Match(Net, String),
    If(Net, usize),
    Endif,
}

/// A cidr table.
pub struct Cidr {
    spec: String,
    rules: Vec<Rule>,
}

/// Parses `addr`, `addr/len`, `[addr]`, `[addr]/len` or `[addr/len]`; the error is
/// Postfix's text.
pub fn parse_net(pattern: &str, match_wanted: bool) -> Result<Net, String> {
    let (body, mask) = if let Some(rest) = pattern.strip_prefix('[') {
        let (inner, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("missing ']' character after \"[{rest}\""))?;
        match after {
            "" => match inner.split_once('/') {
                Some((a, m)) => (a.to_string(), Some(m.to_string())),
                None => (inner.to_string(), None),
            },
            a if a.starts_with('/') => (inner.to_string(), Some(a[1..].to_string())),
            _ => return Err(format!("garbage after \"[{inner}]\"")),
        }
    } else {
        match pattern.split_once('/') {
            Some((a, m)) => (a.to_string(), Some(m.to_string())),
            None => (pattern.to_string(), None),
        }
    };
    let v6 = body.contains(':');
    let bits = if v6 { 128 } else { 32 };
    let parse = |text: &str| -> Option<IpAddr> {
        if v6 {
            text.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            text.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
        }
    };
    let Some(mask) = mask else {
        let addr = parse(&body).ok_or_else(|| format!("bad address pattern: \"{body}\""))?;
        return Ok(Net {
            addr,
            prefix: bits,
            match_wanted,
        });
    };
    let error = if mask.is_empty() || !mask.bytes().all(|b| b.is_ascii_digit()) {
        Some("bad mask value")
    } else if mask.parse::<u32>().map_or(true, |m| m > bits) {
        Some("bad mask length")
    } else if parse(&body).is_none() {
        Some("bad network value")
    } else {
        None
    };
    if let Some(error) = error {
        return Err(format!("{error} in \"{body}/{mask}\""));
    }
    let prefix: u32 = mask.parse().unwrap_or(bits);
    let addr = parse(&body).ok_or_else(|| format!("bad network value in \"{body}/{mask}\""))?;
    let net = Net {
        addr,
        prefix,
        match_wanted,
    };
    let masked = match addr {
        IpAddr::V4(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - prefix)
            };
            IpAddr::V4((u32::from(a) & m).into())
        }
        IpAddr::V6(a) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - prefix)
            };
            IpAddr::V6((u128::from(a) & m).into())
        }
    };
    if masked != addr {
        return Err(format!(
            "non-null host address bits in \"{body}/{mask}\", perhaps you should use \"{masked}/{prefix}\" instead"
        ));
    }
    Ok(net)
}

impl Cidr {
    /// Reads and parses the table.
    pub fn open(path: &str) -> Result<Cidr, DictError> {
        let lines = source::read(path, |e| {
            format!("open database {path}: {}", sys::os_error(e))
        })?;
        let mut rules = Vec::new();
        let mut open_ifs: Vec<(usize, usize)> = Vec::new();
        for line in lines.into_iter().map(|l| l.line) {
            let text = line.text.as_str();
            let parsed: Result<Option<Rule>, String> = if let Some(rest) = keyword(text, "if") {
                let (pattern, wanted) = negations(rest);
                let pattern = pattern.trim_end();
                if pattern.is_empty() {
                    Err("no address pattern".into())
                } else {
                    parse_net(pattern, wanted).map(|net| {
                        open_ifs.push((rules.len(), line.first_line));
                        Some(Rule::If(net, 0))
                    })
                }
            } else if let Some(rest) = keyword(text, "endif") {
                if !rest.trim().is_empty() {
                    Err("garbage after ENDIF".into())
                } else if let Some((start, _)) = open_ifs.pop() {
                    let end = rules.len() + 1;
                    if let Rule::If(_, skip) = &mut rules[start] {
                        *skip = end;
                    }
                    Ok(Some(Rule::Endif))
                } else {
                    Err("ENDIF without IF".into())
                }
            } else {
                let (rest, wanted) = negations(text);
                let (pattern, value) = match rest.find(|c: char| c.is_ascii_whitespace()) {
                    Some(at) => (&rest[..at], rest[at..].trim()),
                    None => (rest, ""),
                };
                if pattern.is_empty() {
                    Err("no address pattern".into())
                } else {
                    parse_net(pattern, wanted).and_then(|net| {
                        if value.is_empty() {
                            Err("no lookup result".into())
                        } else {
                            Ok(Some(Rule::Match(net, value.to_string())))
                        }
                    })
                }
            };
            match parsed {
                Ok(Some(rule)) => rules.push(rule),
                Ok(None) => {}
                Err(why) => log::msg_warn!(
                    "cidr map {path}, line {}: {why}: skipping this rule",
                    line.first_line
                ),
            }
        }
        for (start, line) in open_ifs {
            log::msg_warn!("cidr map {path}, line {line}: IF has no matching ENDIF");
            if let Rule::If(_, skip) = &mut rules[start] {
                *skip = usize::MAX;
            }
        }
        Ok(Cidr {
            spec: format!("cidr:{path}"),
            rules,
        })
    }
}

impl Dict for Cidr {
    fn impl_flags(&self) -> u32 {
        crate::dict_flags::PATTERN
    }

    fn spec(&self) -> &str {
        &self.spec
    }

    fn lookup(&self, key: &str) -> Result<Option<String>, DictError> {
        let query = if key.contains(':') {
            key.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
        } else {
            key.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
        };
        let Some(query) = query else { return Ok(None) };
        let mut i = 0;
        while i < self.rules.len() {
            match &self.rules[i] {
                Rule::Match(net, value) if net.contains(&query) => return Ok(Some(value.clone())),
                Rule::If(net, skip) if !net.contains(&query) => {
                    if *skip == usize::MAX {
                        return Ok(None);
                    }
                    i = *skip;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(parse_net("192.0.2.0/24", true).is_ok());
        assert_eq!(
            parse_net("192.0.2.1/24", true).unwrap_err(),
            "non-null host address bits in \"192.0.2.1/24\", perhaps you should use \"192.0.2.0/24\" instead"
        );
        assert_eq!(
            parse_net("192.0.2.0/33", true).unwrap_err(),
            "bad mask length in \"192.0.2.0/33\""
        );
        assert_eq!(parse_net("[2001:db8::]/32", true).unwrap().prefix, 32);
        assert_eq!(
            parse_net("nonsense", true).unwrap_err(),
            "bad address pattern: \"nonsense\""
        );
        let net = parse_net("10.0.0.0/8", false).unwrap();
        assert!(!net.contains(&"10.1.2.3".parse().unwrap()));
        assert!(net.contains(&"11.1.2.3".parse().unwrap()));
    }
}
