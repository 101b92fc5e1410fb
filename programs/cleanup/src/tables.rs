//! The tables and lists cleanup consults, opened once before it enters the chroot jail.
//!
//! Postfix counterpart: the "mappings" half of `cleanup/cleanup_init.c` (`cleanup_pre_jail`
//! and the extension propagation mask of `cleanup_post_jail`).
//! A parameter left empty means no table. Address tables are opened with fixed-string
//! keys folded to lower case (Postfix's `DICT_FLAG_FOLD_FIX`), content check tables without.
//! Which addresses each canonical or masquerading table applies to is a class mask.
//! The files behind every table are watched, so that a rebuilt table makes the process
//! restart after its current message ("table ... has changed -- restarting").

use crate::init::config_error;
use dict::Flags;
use global::addr_context::AddrContext;
use global::maps::Maps;
use global::match_list::{MatchList, Matcher};
use global::table_watch::TableWatch;
use params::decl::address as a;
use params::decl::cleanup as c;
use params::{Config, ConfigError, Param};

/// The envelope sender (`CLEANUP_CANON_FLAG_ENV_FROM`, `CLEANUP_MASQ_FLAG_ENV_FROM`).
pub const ENV_FROM: u32 = 1 << 0;
/// Envelope recipients.
pub const ENV_RCPT: u32 = 1 << 1;
/// Sender headers (From:, Sender:, Reply-To:...).
pub const HDR_FROM: u32 = 1 << 2;
/// Recipient headers (To:, Cc:...).
pub const HDR_RCPT: u32 = 1 << 3;

/// The class names of canonical_classes and masquerade_classes.
const CLASSES: &[(&str, u32)] = &[
    ("envelope_sender", ENV_FROM),
    ("envelope_recipient", ENV_RCPT),
    ("header_sender", HDR_FROM),
    ("header_recipient", HDR_RCPT),
];

/// Unmatched extensions are propagated through canonical maps (`EXT_PROP_CANONICAL`).
pub const EXT_PROP_CANONICAL: u32 = global::ext_prop::CANONICAL;
/// ... and through virtual aliases (`EXT_PROP_VIRTUAL`).
pub const EXT_PROP_VIRTUAL: u32 = global::ext_prop::VIRTUAL;

/// A one-to-one address table and the address classes it applies to.
pub struct Canonical {
    /// The tables.
    pub maps: Maps,
    /// ENV_FROM | ENV_RCPT | HDR_FROM | HDR_RCPT.
    pub classes: u32,
}

/// Everything cleanup looks addresses and content up in.
pub struct Tables {
    /// `canonical_maps` with `canonical_classes`.
    pub comm_canon: Option<Canonical>,
    /// `sender_canonical_maps` with `sender_canonical_classes`.
    pub send_canon: Option<Canonical>,
    /// `recipient_canonical_maps` with `recipient_canonical_classes`.
    pub rcpt_canon: Option<Canonical>,
    /// `virtual_alias_maps`.
    pub virt_alias: Option<Maps>,
    /// `masquerade_domains`, in order.
    pub masq_domains: Vec<String>,
    /// `masquerade_exceptions`.
    pub masq_exceptions: Option<MatchList>,
    /// `masquerade_classes`.
    pub masq_classes: u32,
    /// `header_checks`.
    pub header_checks: Option<Maps>,
    /// `mime_header_checks`.
    pub mimehdr_checks: Option<Maps>,
    /// `nested_header_checks`.
    pub nesthdr_checks: Option<Maps>,
    /// `body_checks`.
    pub body_checks: Option<Maps>,
    /// `sender_bcc_maps`.
    pub send_bcc: Option<Maps>,
    /// `recipient_bcc_maps`.
    pub rcpt_bcc: Option<Maps>,
    /// `propagate_unmatched_extensions` (`EXT_PROP_*`).
    pub ext_prop: u32,
    /// For the address lookups.
    pub context: AddrContext,
    /// The files behind the tables.
    pub watch: TableWatch,
}

impl Tables {
    /// Opens what main.cf names.
    pub fn from_config(config: &Config) -> Result<Tables, ConfigError> {
        let utf8 = config.bool(&params::decl::identity::SMTPUTF8_ENABLE)?;
        let mut watch = TableWatch::default();
        let addr_flags = Flags {
            utf8,
            ..Flags::default()
        };
        let mut maps = |param: &'static Param, flags: Flags| -> Result<Option<Maps>, ConfigError> {
            let value = config.str(param)?;
            if value.trim().is_empty() {
                return Ok(None);
            }
            watch.watch(&value);
            Maps::new(param.name, &value, flags)
                .map(Some)
                .map_err(|e| config_error(e.to_string()))
        };
        let classes = |param: &'static Param, allowed: u32, checked: &'static Param| {
            let table: Vec<(&str, u32)> = CLASSES
                .iter()
                .copied()
                .filter(|(_, bit)| allowed & bit != 0)
                .collect();
            util::name_mask::name_mask(checked.name, &table, &config.str(param)?)
                .map_err(config_error)
        };
        let all = ENV_FROM | ENV_RCPT | HDR_FROM | HDR_RCPT;
        // Postfix names canonical_classes in the errors of all three class parameters.
        let comm_classes = classes(&a::CANONICAL_CLASSES, all, &a::CANONICAL_CLASSES)?;
        let send_classes = classes(
            &c::SENDER_CANONICAL_CLASSES,
            ENV_FROM | HDR_FROM,
            &a::CANONICAL_CLASSES,
        )?;
        let rcpt_classes = classes(
            &c::RECIPIENT_CANONICAL_CLASSES,
            ENV_RCPT | HDR_RCPT,
            &a::CANONICAL_CLASSES,
        )?;
        let masq_classes = classes(&c::MASQUERADE_CLASSES, all, &c::MASQUERADE_CLASSES)?;
        let canonical =
            |maps: Option<Maps>, classes: u32| maps.map(|maps| Canonical { maps, classes });
        let comm_canon = canonical(maps(&a::CANONICAL_MAPS, addr_flags)?, comm_classes);
        let send_canon = canonical(maps(&a::SENDER_CANONICAL_MAPS, addr_flags)?, send_classes);
        let rcpt_canon = canonical(
            maps(&a::RECIPIENT_CANONICAL_MAPS, addr_flags)?,
            rcpt_classes,
        );
        let virt_alias = maps(&a::VIRTUAL_ALIAS_MAPS, addr_flags)?;
        // Content patterns are used as they are written (Postfix opens them without
        // DICT_FLAG_FOLD_FIX or the UTF-8 request).
        let content_flags = Flags {
            fold_fix: false,
            ..Flags::default()
        };
        let header_checks = maps(&c::HEADER_CHECKS, content_flags)?;
        let mimehdr_checks = maps(&c::MIME_HEADER_CHECKS, content_flags)?;
        let nesthdr_checks = maps(&c::NESTED_HEADER_CHECKS, content_flags)?;
        let body_checks = maps(&c::BODY_CHECKS, content_flags)?;
        let send_bcc = maps(&c::SENDER_BCC_MAPS, addr_flags)?;
        let rcpt_bcc = maps(&c::RECIPIENT_BCC_MAPS, addr_flags)?;
        let masq_exceptions = if config.str(&c::MASQUERADE_EXCEPTIONS)?.trim().is_empty() {
            None
        } else {
            Some(global::match_list::from_parameter(
                config,
                &c::MASQUERADE_EXCEPTIONS,
                &[Matcher::String],
            )?)
        };
        let ext_prop = global::ext_prop::ext_prop_mask(
            a::PROPAGATE_UNMATCHED_EXTENSIONS.name,
            &config.str(&a::PROPAGATE_UNMATCHED_EXTENSIONS)?,
        )
        .map_err(config_error)?;
        Ok(Tables {
            comm_canon,
            send_canon,
            rcpt_canon,
            virt_alias,
            masq_domains: util::tokens::split(
                &config.str(&c::MASQUERADE_DOMAINS)?,
                util::tokens::COMMA_SPACE,
            )
            .map(str::to_string)
            .collect(),
            masq_exceptions,
            masq_classes,
            header_checks,
            mimehdr_checks,
            nesthdr_checks,
            body_checks,
            send_bcc,
            rcpt_bcc,
            ext_prop,
            context: AddrContext::from_config(config)?,
            watch,
        })
    }
}
