//! Security properties: smtpd_sasl_security_options and smtpd_sasl_tls_security_options
//! on Postfix's side, the flags of Dovecot's MECH lines on the other, and the filter that
//! matches one against the other to choose the mechanisms EHLO announces.
//!
//! Postfix counterpart: the `SEC_PROPS_*` masks, `xsasl_dovecot_conf_sec_props`,
//! `xsasl_dovecot_serv_sec_props` and `xsasl_dovecot_server_mech_filter()` in
//! `xsasl/xsasl_dovecot_server.c`. The two name tables share one bit per property: an
//! option names what to avoid (`noplaintext`) or require (`mutual_auth`), a MECH flag says
//! what the mechanism is (`plaintext`, `mutual-auth`).

/// A set of security properties, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SecProps(pub u32);

impl SecProps {
    /// Sends the password in the clear (PLAIN, LOGIN).
    pub const PLAINTEXT: SecProps = SecProps(1 << 0);
    /// Open to active (non-dictionary) attacks.
    pub const ACTIVE: SecProps = SecProps(1 << 1);
    /// Open to passive dictionary attacks (CRAM-MD5, DIGEST-MD5).
    pub const DICTIONARY: SecProps = SecProps(1 << 2);
    /// Allows anonymous login.
    pub const ANONYMOUS: SecProps = SecProps(1 << 3);
    /// Provides forward secrecy.
    pub const FORWARD_SECRECY: SecProps = SecProps(1 << 4);
    /// Authenticates the server to the client too.
    pub const MUTUAL_AUTH: SecProps = SecProps(1 << 5);
    /// Dovecot's `private`: not to be announced at all.
    pub const PRIVATE: SecProps = SecProps(1 << 6);

    /// Properties a mechanism must have when the options ask for them.
    const REQUIRED: u32 = Self::MUTUAL_AUTH.0 | Self::FORWARD_SECRECY.0;
    /// Properties a mechanism must not have when the options refuse them.
    const REFUSED: u32 =
        Self::PLAINTEXT.0 | Self::ACTIVE.0 | Self::DICTIONARY.0 | Self::ANONYMOUS.0;

    /// Whether every property of `other` is in `self`.
    pub fn contains(self, other: SecProps) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether a mechanism with properties `self` suits the security options `options`.
    pub fn suits(self, options: SecProps) -> bool {
        let required = options.0 & Self::REQUIRED;
        let refused = options.0 & Self::REFUSED;
        self.0 & required == required && self.0 & refused == 0
    }
}

/// main.cf's names (smtpd_sasl_security_options).
const OPTION_NAMES: [(&str, u32); 6] = [
    ("noplaintext", SecProps::PLAINTEXT.0),
    ("noactive", SecProps::ACTIVE.0),
    ("nodictionary", SecProps::DICTIONARY.0),
    ("noanonymous", SecProps::ANONYMOUS.0),
    ("forward_secrecy", SecProps::FORWARD_SECRECY.0),
    ("mutual_auth", SecProps::MUTUAL_AUTH.0),
];

/// Dovecot's MECH flags.
const MECH_FLAGS: [(&str, SecProps); 7] = [
    ("plaintext", SecProps::PLAINTEXT),
    ("active", SecProps::ACTIVE),
    ("dictionary", SecProps::DICTIONARY),
    ("anonymous", SecProps::ANONYMOUS),
    ("forward-secrecy", SecProps::FORWARD_SECRECY),
    ("mutual-auth", SecProps::MUTUAL_AUTH),
    ("private", SecProps::PRIVATE),
];

/// Parses a security options value as Postfix's `name_mask_opt()` does (names separated
/// by commas and white space, any case). An unknown name is Postfix's fatal error, whose
/// text the `Err` carries: `unknown xsasl_dovecot_server_create value "x" in "..."`.
pub fn parse_options(value: &str) -> Result<SecProps, String> {
    let context = "xsasl_dovecot_server_create";
    util::name_mask::name_mask_opt(context, &OPTION_NAMES, value, true).map(SecProps)
}

/// The properties a MECH line's flags (tab-separated, any case) give; unknown flags are
/// ignored, as Postfix's `NAME_MASK_IGNORE` does, so newer Dovecot flags do no harm.
pub fn parse_mech_flags(flags: &[u8]) -> SecProps {
    let mut props = SecProps::default();
    for flag in flags.split(|&b| b == b'\t') {
        if let Some((_, p)) = MECH_FLAGS
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(flag))
        {
            props.0 |= p.0;
        }
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let p = parse_options("noanonymous, NOPLAINTEXT\tmutual_auth").unwrap();
        assert!(p.contains(SecProps::ANONYMOUS));
        assert!(p.contains(SecProps::PLAINTEXT));
        assert!(p.contains(SecProps::MUTUAL_AUTH));
        assert_eq!(parse_options("").unwrap(), SecProps::default());
        assert_eq!(
            parse_options("noanonymous, nosuch").unwrap_err(),
            "unknown xsasl_dovecot_server_create value \"nosuch\" in \"noanonymous, nosuch\""
        );
    }

    #[test]
    fn filter() {
        let plain = parse_mech_flags(b"plaintext");
        let cram = parse_mech_flags(b"DICTIONARY\tactive\tnew-flag");
        let anonymous = parse_mech_flags(b"anonymous");
        let gssapi = parse_mech_flags(b"mutual-auth\tforward-secrecy");
        let noanonymous = parse_options("noanonymous").unwrap();
        assert!(plain.suits(noanonymous) && cram.suits(noanonymous));
        assert!(!anonymous.suits(noanonymous));
        let noplaintext = parse_options("noplaintext, noanonymous").unwrap();
        assert!(!plain.suits(noplaintext) && cram.suits(noplaintext));
        assert!(!cram.suits(parse_options("nodictionary").unwrap()));
        let mutual = parse_options("mutual_auth").unwrap();
        assert!(gssapi.suits(mutual) && !plain.suits(mutual));
    }
}
