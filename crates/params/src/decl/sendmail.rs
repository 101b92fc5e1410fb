//! The sendmail command.
//!
//! Postfix counterpart: global/mail_params.h (sendmail_*, VERP), sendmail/sendmail.c tables.

crate::params! {
    /// How sendmail treats line endings in its input: always (strip a carriage return
    /// before each newline), strict (do so only when the first line ends in CR LF) or
    /// never. Added in Postfix 2.9.
    "sendmail_fix_line_endings" SENDMAIL_FIX_LINE_ENDINGS: Str = "always", min 1;
    /// The two VERP delimiters that sendmail -XV and smtpd's XVERP use when none are
    /// given. Added in Postfix 1.1.
    "default_verp_delimiters" DEFAULT_VERP_DELIMITERS: Str = "+=", min 1;
    /// The characters allowed as VERP delimiters. Added in Postfix 1.1.
    "verp_delimiter_filter" VERP_DELIMITER_FILTER: Str = "-=+", min 1;
}
