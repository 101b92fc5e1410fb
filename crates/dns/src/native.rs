//! Host addresses from the C library's name service (`smtp_host_lookup = native`):
//! whatever nsswitch.conf says, the hosts file included.
//!
//! Postfix counterpart: `hostname_to_sockaddr()` in `util/myaddrinfo.c`, as
//! `smtp/smtp_addr.c` calls it. The lookup is `getaddrinfo()` through the standard
//! library, which asks for every family; callers keep those `inet_protocols` enables, as
//! Postfix's SMTP client does. The standard library reports errors as text, which is
//! mapped back to the `EAI_*` code.

use std::net::{IpAddr, ToSocketAddrs};

use crate::hostdb::AiError;

/// What the standard library puts before `gai_strerror()`'s text.
const STD_PREFIX: &str = "failed to lookup address information: ";

/// The addresses of `host`, in the order the C library gives them, without duplicates.
pub fn hostname_to_addrs(host: &str) -> Result<Vec<IpAddr>, AiError> {
    let addrs = (host, 0).to_socket_addrs().map_err(|e| {
        let text = e.to_string();
        text.strip_prefix(STD_PREFIX)
            .and_then(AiError::from_text)
            .unwrap_or(AiError::System)
    })?;
    let mut list: Vec<IpAddr> = Vec::new();
    for addr in addrs.map(|a| a.ip()) {
        if !list.contains(&addr) {
            list.push(addr);
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_and_numeric() {
        // Every system resolves its loopback name through the hosts file.
        let local = hostname_to_addrs("localhost").unwrap();
        assert!(local.iter().any(IpAddr::is_loopback), "{local:?}");
        assert_eq!(
            hostname_to_addrs("192.0.2.7"),
            Ok(vec!["192.0.2.7".parse().unwrap()])
        );
    }
}
