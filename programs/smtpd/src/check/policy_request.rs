//! `check_policy_service` in the restriction engine: the request Postfix 3.7 sends, and
//! the reply's action evaluated like an access table's.
//!
//! Postfix counterpart: `check_policy_service()` in `smtpd/smtpd_check.c` (the request
//! attributes, in its order, and the default action when the server cannot answer).
//! The client certificate's fingerprints go with any TLS session that has one; its
//! subject and issuer names only when the certificate is trusted (xtext-encoded).

use super::reply::Verdict;
use super::{Checker, Facts, Subject};
use ipc::Attrs;

/// The request about `facts` (`smtpd_access_policy`); `etrn_domain` while ETRN is
/// checked.
pub fn request(facts: &Facts, policy_context: &str, etrn_domain: Option<&str>) -> Attrs {
    let peer = facts.peer;
    // BDAT is reported as DATA, as policy servers know only the latter.
    let state = if facts.stage == "BDAT" {
        "DATA"
    } else {
        facts.stage
    };
    let counts = ["DATA", "BDAT", crate::log_line::END_OF_MESSAGE]
        .iter()
        .any(|s| facts.stage.eq_ignore_ascii_case(s));
    let server_addr = peer.dest_addr.clone().unwrap_or_default();
    let server_port = peer.dest_port.clone().unwrap_or_default();
    let tls = facts.tls;
    let cert = tls.and_then(|t| t.peer_cert.as_ref());
    let trusted =
        tls.is_some_and(|t| matches!(t.trust, tls::Trust::Trusted | tls::Trust::Verified));
    let name = |f: fn(&tls::PeerCert) -> &str| {
        cert.filter(|_| trusted)
            .map_or_else(String::new, |c| xtext_encode(f(c)))
    };
    Attrs::new()
        .str("request", "smtpd_access_policy")
        .str("protocol_state", state)
        .str("protocol_name", facts.protocol)
        .str("client_address", &peer.addr)
        .str("client_name", &peer.name)
        .str("client_port", &peer.port)
        .str("reverse_client_name", &peer.reverse_name)
        .str("server_address", &server_addr)
        .str("server_port", &server_port)
        .bytes("helo_name", facts.helo.unwrap_or_default().as_bytes())
        .bytes(
            "sender",
            &util::eight_bit::to_bytes(facts.sender.unwrap_or("")),
        )
        .bytes(
            "recipient",
            &util::eight_bit::to_bytes(facts.recipient.unwrap_or("")),
        )
        .str(
            "recipient_count",
            &(if counts { facts.rcpt_count } else { 0 }).to_string(),
        )
        .str("queue_id", facts.queue_id.unwrap_or_default())
        .str("instance", facts.instance)
        .str("size", &facts.size.to_string())
        .str("etrn_domain", etrn_domain.unwrap_or_default())
        .str("stress", facts.stress)
        .str("sasl_method", facts.sasl_method.unwrap_or_default())
        .str("sasl_username", facts.sasl_username.unwrap_or_default())
        .str("sasl_sender", facts.sasl_sender.unwrap_or_default())
        .str("ccert_subject", &name(|c| &c.subject_cn))
        .str("ccert_issuer", &name(|c| &c.issuer_cn))
        .str("ccert_fingerprint", cert.map_or("", |c| &c.fingerprint))
        .str(
            "ccert_pubkey_fingerprint",
            cert.map_or("", |c| &c.pkey_fingerprint),
        )
        .str("encryption_protocol", tls.map_or("", |t| t.protocol))
        .str("encryption_cipher", tls.map_or("", |t| t.cipher))
        .str(
            "encryption_keysize",
            &tls.map_or(0, |t| t.cipher_usebits).to_string(),
        )
        .str("policy_context", policy_context)
}

impl Checker {
    /// `check_policy_service server`: the server's action, or its default action when it
    /// cannot be asked.
    pub(super) fn check_policy(
        &mut self,
        server: &str,
        subject: &Subject,
        facts: &Facts,
        depth: usize,
    ) -> (Verdict, Option<String>) {
        let Some(client) = self.tables.policies.get_mut(server) else {
            // Only lists known at start-up can name a server (Postfix panics here).
            log::msg_warn!("check_policy_service: no client endpoint for server {server}");
            return (self.server_error(), None);
        };
        let attrs = request(facts, client.policy_context(), self.etrn_domain.as_deref());
        let action = match client.ask(&attrs) {
            Some(action) => match String::from_utf8(action) {
                Ok(action) => Some(action),
                Err(e) if self.policy.smtputf8 => {
                    let shown = String::from_utf8_lossy(e.as_bytes()).into_owned();
                    log::msg_warn!(
                        "malformed UTF-8 in policy server {server} response: \"{shown}\""
                    );
                    None
                }
                Err(e) => Some(String::from_utf8_lossy(e.as_bytes()).into_owned()),
            },
            None => None,
        };
        let Some(value) = action else {
            // A default action that asks a server that fails gets the built-in default.
            let value = if self.in_default_action {
                super::policy::BUILTIN_DEFAULT_ACTION.to_string()
            } else {
                client.default_action().to_string()
            };
            let outer = std::mem::replace(&mut self.in_default_action, true);
            let verdict = self.table_result(server, &value, "policy query", subject, facts, depth);
            self.in_default_action = outer;
            return (verdict, Some(format!("default action {value}")));
        };
        let verdict = self.table_result(server, &value, "policy query", subject, facts, depth);
        (verdict, Some(format!("action={value}")))
    }
}

/// `xtext_quote()` with no extra specials: `+` and bytes outside `!`..`~` as `+XX`.
fn xtext_encode(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b == b'+' || !(33..=126).contains(&b) {
            out.push_str(&format!("+{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_names_are_xtext() {
        assert_eq!(xtext_encode("Example CA"), "Example+20CA");
        assert_eq!(xtext_encode("a+b=c"), "a+2Bb=c");
        assert_eq!(xtext_encode("caf\u{e9}"), "caf+C3+A9");
    }
}
