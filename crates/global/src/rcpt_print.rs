//! A recipient of a delivery request (Postfix's `RECIPIENT`) and its attributes on the
//! wire.
//!
//! Postfix counterparts: `global/recipient_list.h`, `global/rcpt_print.c` and the
//! scanning half of `global/rcpt_buf.c` (`rcpb_scan`). The queue manager sends one list
//! per recipient in a delivery request; the delivery agents send the same attributes,
//! in the same order, to the bounce, defer and trace services. The offset is where the
//! recipient's record is in the queue file, so that the agent can mark it done.

use ipc::Attrs;
use util::eight_bit::{to_bytes, to_text};

/// One recipient.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// The offset of its record in the queue file (0: none, as for a recipient that
    /// cleanup made up).
    pub offset: i64,
    /// DSN ORCPT (`rfc822;user@example`), empty when none.
    pub dsn_orcpt: String,
    /// DSN NOTIFY (the `dsn_mask::NOTIFY_*` bits), 0 when none was given.
    pub dsn_notify: u32,
    /// The address before rewriting and alias expansion, empty when unknown.
    pub orig_addr: String,
    /// The address.
    pub address: String,
}

/// `attrs` followed by the recipient's attributes (`rcpt_print`).
pub fn rcpt_print(attrs: Attrs, rcpt: &Recipient) -> Attrs {
    attrs
        .bytes("original_recipient", &to_bytes(&rcpt.orig_addr))
        .bytes(ipc::mail_attr::RECIP, &to_bytes(&rcpt.address))
        .str("offset", &rcpt.offset.to_string())
        .bytes(ipc::mail_attr::DSN_ORCPT, &to_bytes(&rcpt.dsn_orcpt))
        .int(ipc::mail_attr::DSN_NOTIFY, rcpt.dsn_notify as i32)
}

/// The recipient in one list of a delivery request (`rcpb_scan`, strict): exactly
/// Postfix's five attributes in its order, else None.
pub fn rcpt_scan(attrs: &Attrs) -> Option<Recipient> {
    let expected = [
        "original_recipient",
        "recipient",
        "offset",
        "dsn_orig_rcpt",
        "notify_flags",
    ];
    if !attrs.names_are(&expected) {
        return None;
    }
    let value = |i: usize| attrs.value(i);
    // Postfix prints a long attribute as unsigned (%lu): -1, local's offset for a
    // recipient that is not in the queue file, arrives as 18446744073709551615.
    let number = |i: usize| {
        let text = std::str::from_utf8(value(i)).ok()?;
        text.parse::<i64>()
            .ok()
            .or_else(|| text.parse::<u64>().ok().map(|n| n as i64))
    };
    Some(Recipient {
        orig_addr: to_text(value(0)).into_owned(),
        address: to_text(value(1)).into_owned(),
        offset: number(2)?,
        dsn_orcpt: to_text(value(3)).into_owned(),
        dsn_notify: u32::try_from(number(4)?).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsigned_minus_one_offset_is_minus_one() {
        let attrs = Attrs::new()
            .str("original_recipient", "a@x")
            .str("recipient", "a@x")
            .str("offset", "18446744073709551615")
            .str("dsn_orig_rcpt", "")
            .str("notify_flags", "0");
        assert_eq!(rcpt_scan(&attrs).map(|r| r.offset), Some(-1));
    }

    #[test]
    fn a_recipient_goes_and_comes_back() {
        let rcpt = Recipient {
            offset: 532,
            dsn_orcpt: "rfc822;u@example.com".into(),
            dsn_notify: 6,
            orig_addr: "u@example.com".into(),
            address: "user@example.com".into(),
        };
        let attrs = rcpt_print(Attrs::new(), &rcpt);
        assert_eq!(rcpt_scan(&attrs), Some(rcpt));
    }

    #[test]
    fn a_stray_attribute_is_refused() {
        let attrs = rcpt_print(Attrs::new(), &Recipient::default()).str("x", "y");
        assert_eq!(rcpt_scan(&attrs), None);
        let bad_offset = Attrs::new()
            .str("original_recipient", "")
            .str("recipient", "a")
            .str("offset", "x")
            .str("dsn_orig_rcpt", "")
            .int("notify_flags", 0);
        assert_eq!(rcpt_scan(&bad_offset), None);
    }
}
