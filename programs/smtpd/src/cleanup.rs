//! What smtpd tells the client when cleanup did not queue its message.
//!
//! Postfix counterpart: the end of `data_cmd()` in `smtpd/smtpd.c`. The connection to
//! cleanup itself is `global::cleanup_clnt`, shared with pickup, bounce and the others;
//! only the wording of a refusal is smtpd's own.

/// The reply to a message that cleanup did not queue (`status` non-zero), as Postfix's
/// `data_cmd()` words it: cleanup's own SMTP reply when it gave one, else the text of the
/// most severe problem.
pub fn refused_reply(status: u32, why: &str) -> String {
    use global::cleanup_user::{STAT_BAD, STAT_CONT, STAT_DEFER, cleanup_stat_detail};
    let is_smtp_reply = why.len() >= 3
        && matches!(why.as_bytes()[0], b'4' | b'5')
        && why.as_bytes()[1..3].iter().all(u8::is_ascii_digit);
    if is_smtp_reply {
        return why.to_string();
    }
    let detail = cleanup_stat_detail(status);
    let with_reason = detail.status & (STAT_DEFER | STAT_CONT) != 0 && !why.is_empty();
    if with_reason {
        format!("{} {why}", detail.smtp)
    } else if detail.status == STAT_BAD || detail.status == 0 {
        let bad = cleanup_stat_detail(STAT_BAD);
        format!("{} {} Error: internal error {status}", bad.smtp, bad.dsn)
    } else {
        format!("{} {} Error: {}", detail.smtp, detail.dsn, detail.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use global::cleanup_user::{STAT_CONT, STAT_SIZE};

    #[test]
    fn replies_for_refused_messages() {
        assert_eq!(
            refused_reply(STAT_SIZE, ""),
            "552 5.3.4 Error: message file too big"
        );
        assert_eq!(
            refused_reply(STAT_CONT, "550 5.7.1 no spam"),
            "550 5.7.1 no spam"
        );
        assert_eq!(
            refused_reply(STAT_CONT, "5.7.1 no spam"),
            "550 5.7.1 no spam"
        );
        assert_eq!(
            refused_reply(1 << 20, ""),
            "451 4.3.0 Error: internal error 1048576"
        );
    }
}
