//! The line that says a message entered the active queue:
//! `QUEUEID: from=<sender>, size=N, nrcpt=N (queue active)`.
//!
//! Postfix counterpart: `global/opened.c`, called from `qmgr_message_read` when the
//! sender record is read. `size` is the content length and `nrcpt` the number of
//! recipients still to deliver as the size record counts them; the sender is shown in
//! `info_log_address_format`.

use crate::message::Message;
use std::sync::OnceLock;

/// The address form for log lines, set once at start-up.
static FORM: OnceLock<global::info_log_addr_form::AddrForm> = OnceLock::new();

/// Sets the address form used by [`log`] and the expiry line.
pub fn init(form: global::info_log_addr_form::AddrForm) {
    let _ = FORM.set(form);
}

/// An address as the log shows it.
pub fn log_address(address: &str) -> String {
    match FORM.get() {
        Some(form) => form.format(address).into_owned(),
        None => address.to_string(),
    }
}

/// Logs the `from=` line of `message`.
pub fn log(message: &Message) {
    log::msg_info!(
        "{}: from=<{}>, size={}, nrcpt={} (queue active)",
        message.id,
        log_address(&message.sender),
        message.cont_length,
        message.rcpt_unread
    );
}
