//! What a mail source asks of cleanup: receive_override_options and SMTPUTF8
//! autodetection.
//!
//! Postfix counterparts: `global/input_transp.c`, `smtputf8_autodetect()` in
//! `global/smtputf8.c`.

use crate::cleanup_user::{
    self, FLAG_AUTOUTF8, FLAG_BCC_OK, FLAG_FILTER, FLAG_MAP_OK, FLAG_MILTER,
};

/// Skip unknown recipient checks.
pub const UNKNOWN_RCPT: u32 = 1 << 0;
/// Skip address mapping.
pub const ADDRESS_MAPPING: u32 = 1 << 1;
/// Skip header and body checks.
pub const HEADER_BODY: u32 = 1 << 2;
/// Skip Milters.
pub const MILTER: u32 = 1 << 3;

/// The mask for a receive_override_options value; an unknown word is an error that
/// names it.
pub fn input_transp_mask(param: &str, value: &str) -> Result<u32, String> {
    util::name_mask::name_mask(
        param,
        &[
            ("no_unknown_recipient_checks", UNKNOWN_RCPT),
            ("no_address_mappings", ADDRESS_MAPPING),
            ("no_header_body_checks", HEADER_BODY),
            ("no_milters", MILTER),
        ],
        value,
    )
}

/// The cleanup flags left after receive_override_options.
pub fn input_transp_cleanup(flags: u32, mask: u32) -> u32 {
    if log::verbose() > 0 {
        log::msg_info!(
            "before input_transp_cleanup: cleanup flags = {}",
            cleanup_user::cleanup_strflags(flags)
        );
    }
    let mut out = flags;
    if mask & ADDRESS_MAPPING != 0 {
        out &= !(FLAG_BCC_OK | FLAG_MAP_OK);
    }
    if mask & HEADER_BODY != 0 {
        out &= !FLAG_FILTER;
    }
    if mask & MILTER != 0 {
        out &= !FLAG_MILTER;
    }
    if log::verbose() > 0 {
        log::msg_info!(
            "after input_transp_cleanup: cleanup flags = {}",
            cleanup_user::cleanup_strflags(out)
        );
    }
    out
}

/// Mail sources, as smtputf8_autodetect_classes names them.
pub mod mail_src {
    /// sendmail(1) through postdrop and pickup.
    pub const SENDMAIL: u32 = 1 << 0;
    /// smtpd(8).
    pub const SMTPD: u32 = 1 << 1;
    /// qmqpd(8).
    pub const QMQPD: u32 = 1 << 2;
    /// Forwarding and aliasing by local(8).
    pub const FORWARD: u32 = 1 << 3;
    /// bounce(8).
    pub const BOUNCE: u32 = 1 << 4;
    /// Postmaster notices.
    pub const NOTIFY: u32 = 1 << 5;
    /// Address verification probes.
    pub const VERIFY: u32 = 1 << 6;
    /// All of them.
    pub const ALL: u32 = 0x7f;
}

/// `FLAG_AUTOUTF8` when mail from `source` should be checked for SMTPUTF8, per
/// smtputf8_enable and smtputf8_autodetect_classes.
pub fn smtputf8_autodetect(enable: bool, classes: &str, source: u32) -> Result<u32, String> {
    if !enable {
        return Ok(0);
    }
    let mask = util::name_mask::name_mask(
        "smtputf8_autodetect_classes",
        &[
            ("sendmail", mail_src::SENDMAIL),
            ("smtpd", mail_src::SMTPD),
            ("qmqpd", mail_src::QMQPD),
            ("forward", mail_src::FORWARD),
            ("bounce", mail_src::BOUNCE),
            ("notify", mail_src::NOTIFY),
            ("verify", mail_src::VERIFY),
            ("all", mail_src::ALL),
        ],
        classes,
    )?;
    if mask == 0 {
        log::msg_warn!("smtputf8_autodetect_classes: bad input: {classes}");
    }
    Ok(if mask & source != 0 { FLAG_AUTOUTF8 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cleanup_user::{FLAG_BOUNCE, FLAG_MASK_EXTERNAL};

    #[test]
    fn override_options_clear_flags() {
        let all = FLAG_BOUNCE | FLAG_MASK_EXTERNAL;
        assert_eq!(input_transp_cleanup(all, 0), all);
        let mask = input_transp_mask(
            "receive_override_options",
            "no_milters, no_address_mappings",
        )
        .unwrap();
        assert_eq!(input_transp_cleanup(all, mask), FLAG_BOUNCE | FLAG_FILTER);
        assert!(input_transp_mask("receive_override_options", "no_such").is_err());
    }

    #[test]
    fn autodetect_by_class() {
        assert_eq!(
            smtputf8_autodetect(true, "sendmail, verify", mail_src::SENDMAIL),
            Ok(FLAG_AUTOUTF8)
        );
        assert_eq!(
            smtputf8_autodetect(true, "smtpd", mail_src::SENDMAIL),
            Ok(0)
        );
        assert_eq!(smtputf8_autodetect(false, "all", mail_src::SENDMAIL), Ok(0));
    }
}
