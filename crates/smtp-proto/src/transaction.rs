//! The state of one mail transaction, as far as the protocol decides replies with it.
//!
//! Postfix counterpart: the MAIL/RCPT/BDAT fields of `SMTPD_STATE` (`smtpd/smtpd.h`) and
//! `mail_reset()`/`rcpt_reset()` in `smtpd.c`. A transaction starts with an accepted MAIL
//! and ends with the end of a message, RSET, HELO/EHLO, STARTTLS or XCLIENT
//! ([`Transaction::reset`]). Some fields outlive a refused command, as in Postfix, and
//! that shows in replies: the SIZE= of a refused MAIL is still checked against
//! `message_size_limit` by the next MAIL that has no SIZE=, and an AUTH= of a refused MAIL
//! makes the next AUTH= a "multiple AUTH= options" error, until the transaction state is
//! reset.

/// Where BDAT stands (Postfix's `SMTPD_BDAT_STAT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BdatState {
    /// No BDAT in this transaction.
    #[default]
    None,
    /// Chunks are being accepted.
    Ok,
    /// A chunk failed: later chunks are read and discarded until BDAT LAST or RSET.
    Error,
}

/// The BODY= parameter of MAIL (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// BODY=7BIT.
    SevenBit,
    /// BODY=8BITMIME.
    EightBitMime,
}

impl Body {
    /// The value of the queue file's `encoding` attribute (`7BIT`, `8BIT`).
    pub fn encoding(self) -> &'static str {
        match self {
            Body::SevenBit => "7BIT",
            Body::EightBitMime => "8BIT",
        }
    }
}

/// One mail transaction's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transaction {
    /// The sender, internal form (`""` for `<>`); `Some` while in a transaction.
    pub sender: Option<String>,
    /// The first accepted recipient, for logging.
    pub recipient: Option<String>,
    /// Accepted recipients.
    pub rcpt_count: usize,
    /// RCPT commands answered "too many recipients" so far.
    pub rcpt_overshoot: usize,
    /// The SIZE= value (0 when none was given).
    pub msg_size: u64,
    /// The AUTH= address, `printable()`d (not set for `AUTH=<>`).
    pub sasl_sender: Option<String>,
    /// The transaction is SMTPUTF8 (MAIL ... SMTPUTF8).
    pub smtputf8: bool,
    /// BODY=.
    pub body: Option<Body>,
    /// RET= ([`dsn::RET_FULL`](crate::dsn::RET_FULL) or [`dsn::RET_HDRS`](crate::dsn::RET_HDRS)).
    pub dsn_ret: Option<u32>,
    /// ENVID=, decoded.
    pub dsn_envid: Option<Vec<u8>>,
    /// XVERP delimiters.
    pub verp_delims: Option<String>,
    /// BDAT progress.
    pub bdat: BdatState,
}

impl Transaction {
    /// A session's state before any MAIL.
    pub fn new() -> Transaction {
        Transaction::default()
    }

    /// Whether a MAIL transaction is in progress (`SMTPD_IN_MAIL_TRANSACTION`).
    pub fn in_mail(&self) -> bool {
        self.sender.is_some()
    }

    /// Whether BDAT has started (`SMTPD_PROCESSING_BDAT`): MAIL, RCPT and DATA are then
    /// out of order.
    pub fn processing_bdat(&self) -> bool {
        self.bdat != BdatState::None
    }

    /// Ends the transaction: `mail_reset()` and `rcpt_reset()`.
    pub fn reset(&mut self) {
        *self = Transaction::default();
    }
}
