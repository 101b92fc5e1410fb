//! The postmaster's notice about a session with a server that broke the protocol.
//!
//! Postfix counterparts: `smtp_chat_notify()` in `smtp/smtp_chat.c` and the start of
//! `smtp_cleanup_session()` in `smtp/smtp_connect.c`. The session's chat keeps every
//! command and reply line (crate::chat) and the classes of its errors: a reply code
//! that no command expects (below 400, above 599, 500-509 or 555) or a garbled reply is
//! a protocol error, a failed table lookup a data error. When the session is over and
//! one of those classes is in notify_classes, error_notice_recipient gets the
//! transcript, unless the mail being delivered is itself a notice (null or
//! double-bounce sender), so that notices never beget notices.

use crate::proto::Session;
use crate::state::State;

/// Mails the postmaster the session's transcript if its errors call for it.
pub fn notify(state: &State, session: &Session) {
    let notifier = &state.settings.notify;
    let chat = &session.chat;
    let sender = &state.request.sender;
    let a_notice = sender.is_empty() || *sender == notifier.double_bounce();
    if chat.history.is_empty() || !notifier.wanted(chat.error_mask) || a_notice {
        return;
    }
    let subject = format!(
        "{} {} client: errors from {}",
        notifier.mail_name,
        if state.settings.lmtp { "LMTP" } else { "SMTP" },
        session.namaddrport
    );
    let preface = [
        String::new(),
        format!("Unexpected response from {}.", session.namaddrport),
        String::new(),
        "Transcript of session follows.".into(),
        String::new(),
    ];
    let trailer = [
        String::new(),
        "For other details, see the local mail logfile".into(),
    ];
    notifier.send(
        &notifier.error_rcpt,
        &subject,
        &preface,
        &chat.history,
        &trailer,
    );
}
