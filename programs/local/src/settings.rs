//! What main.cf says to the local delivery agent, read once before the jail, and the
//! tables it opens.
//!
//! Postfix counterpart: the parameter tables of `local/local.c` with `local_mask_init`
//! (allow_mail_to_commands, allow_mail_to_files, prepend_delivered_header,
//! propagate_unmatched_extensions through global::ext_prop, mailbox_delivery_lock through
//! global::mbox_conf) and `pre_init` (the file size limit, global::file_limit).

use crate::state::exp_type;
use global::maps::{Maps, MapsError};
use global::mbox_conf::{self, LockConf};
use params::Config;
use params::decl::local as l;

/// Which deliveries get a Delivered-To: header (`DELIVER_HDR_*`).
pub mod deliver_hdr {
    /// Delivery to a command.
    pub const CMD: u32 = 1 << 0;
    /// Delivery to a file.
    pub const FILE: u32 = 1 << 1;
    /// Forwarding.
    pub const FWD: u32 = 1 << 2;
}

/// main.cf, as the agent uses it.
pub struct Settings {
    /// The status clients and the log line's form.
    pub status: global::bounce::StatusConf,
    /// Where queue files are.
    pub layout: global::mail_queue::Layout,
    /// recipient_delimiter and the other address rules.
    pub addr: global::addr_context::AddrContext,
    /// mail_owner's ids.
    pub owner: (u32, u32),
    /// default_privs' ids.
    pub default_ids: (u32, u32),
    /// home_mailbox.
    pub home_mailbox: String,
    /// mail_spool_directory.
    pub mail_spool_dir: String,
    /// mailbox_command (unexpanded).
    pub mailbox_command: String,
    /// mailbox_transport.
    pub mailbox_transport: String,
    /// fallback_transport.
    pub fallback_transport: String,
    /// luser_relay (unexpanded).
    pub luser_relay: String,
    /// forward_path (unexpanded).
    pub forward_path: String,
    /// command_execution_directory (unexpanded).
    pub exec_directory: String,
    /// recipient_delimiter.
    pub rcpt_delim: String,
    /// propagate_unmatched_extensions.
    pub ext_prop_mask: u32,
    /// allow_mail_to_files, as `exp_type` bits.
    pub file_deliver_mask: u32,
    /// allow_mail_to_commands, as `exp_type` bits.
    pub cmd_deliver_mask: u32,
    /// prepend_delivered_header.
    pub deliver_hdr_mask: u32,
    /// mailbox_delivery_lock, as `MBOX_*_LOCK` bits.
    pub lock_mask: u32,
    /// deliver_lock_attempts, deliver_lock_delay and stale_lock_time.
    pub lock_conf: LockConf,
    /// command_time_limit.
    pub command_time_limit: u64,
    /// mailbox_size_limit and message_size_limit.
    pub size_limits: (u64, u64),
    /// local_command_shell.
    pub command_shell: String,
    /// export_environment.
    pub export: Vec<String>,
    /// command_expansion_filter.
    pub cmd_exp_filter: String,
    /// forward_expansion_filter.
    pub fwd_exp_filter: String,
    /// execution_directory_expansion_filter.
    pub exec_exp_filter: String,
    /// expand_owner_alias.
    pub expand_owner_alias: bool,
    /// owner_request_special.
    pub owner_request_special: bool,
    /// frozen_delivered_to.
    pub frozen_delivered: bool,
    /// reset_owner_alias.
    pub reset_owner_alias: bool,
    /// strict_mailbox_ownership.
    pub strict_mbox_owner: bool,
    /// require_home_directory.
    pub stat_home_dir: bool,
    /// duplicate_filter_limit.
    pub dup_filter_limit: usize,
    /// enable_original_recipient.
    pub enable_orcpt: bool,
    /// myhostname, for forwarded mail's Received: header.
    pub myhostname: String,
    /// mail_name, likewise.
    pub mail_name: String,
    /// cleanup_service_name.
    pub cleanup_service: String,
    /// ipc_timeout.
    pub ipc_timeout: std::time::Duration,
    /// smtputf8_enable.
    pub smtputf8: bool,
    /// biff.
    pub biff: bool,
}

/// A configuration error with Postfix's text.
pub fn config_error(message: String) -> params::ConfigError {
    params::ConfigError {
        warnings: Vec::new(),
        message,
    }
}

/// The ids of `name`, or Postfix's fatal text.
fn ids_of(param: &str, name: &str) -> Result<(u32, u32), params::ConfigError> {
    sys::user::by_name(name)
        .map(|a| (a.uid, a.gid))
        .ok_or_else(|| config_error(format!("unknown {param} user name value: {name}")))
}

impl Settings {
    /// Reads main.cf.
    pub fn from_config(config: &Config) -> Result<Settings, params::ConfigError> {
        use params::decl::{address as a, cleanup as c, identity as i, install as n};
        let mask = |param: &'static params::def::Param, table: &[(&str, u32)]| {
            util::name_mask::name_mask(param.name, table, &config.str(param)?).map_err(config_error)
        };
        let expand_types = [
            ("alias", exp_type::ALIAS),
            ("forward", exp_type::FWD),
            ("include", exp_type::INCL),
        ];
        let hdr_types = [
            ("command", deliver_hdr::CMD),
            ("file", deliver_hdr::FILE),
            ("forward", deliver_hdr::FWD),
        ];
        use params::decl::delivery as d;
        let lock_text = config.str(&d::MAILBOX_DELIVERY_LOCK)?;
        let mut lock_mask = mbox_conf::mbox_lock_mask(d::MAILBOX_DELIVERY_LOCK.name, &lock_text)
            .map_err(config_error)?;
        if config.bool(&l::SUN_MAILTOOL_COMPATIBILITY)? {
            log::msg_warn!(
                "sun_mailtool_compatibility: deprecated parameter, use \"mailbox_delivery_lock = dotlock\" instead"
            );
            lock_mask &= mbox_conf::MBOX_DOT_LOCK;
        }
        if lock_mask == 0 {
            return Err(config_error(
                "parameter mailbox_delivery_lock specifies no applicable mailbox locking method"
                    .into(),
            ));
        }
        let owner = ids_of("mail_owner", &config.str(&n::MAIL_OWNER)?)?;
        let default_ids = ids_of("default_privs", &config.str(&n::DEFAULT_PRIVS)?)?;
        let mut status = global::bounce::StatusConf::from_config(config)?;
        let filter = &d::LOCAL_DELIVERY_STATUS_FILTER;
        status
            .bounce_client_init(filter.name, &config.str(filter)?)
            .map_err(config_error)?;
        Ok(Settings {
            status,
            layout: global::mail_queue::Layout::from_config(config)?,
            addr: global::addr_context::AddrContext::from_config(config)?,
            owner,
            default_ids,
            home_mailbox: config.str(&a::HOME_MAILBOX)?,
            mail_spool_dir: config.str(&a::MAIL_SPOOL_DIRECTORY)?,
            mailbox_command: config.str(&a::MAILBOX_COMMAND)?,
            mailbox_transport: config.str(&l::MAILBOX_TRANSPORT)?,
            fallback_transport: config.str(&l::FALLBACK_TRANSPORT)?,
            luser_relay: config.str(&l::LUSER_RELAY)?,
            forward_path: config.str(&l::FORWARD_PATH)?,
            exec_directory: config.str(&l::COMMAND_EXECUTION_DIRECTORY)?,
            rcpt_delim: config.str(&a::RECIPIENT_DELIMITER)?,
            ext_prop_mask: global::ext_prop::ext_prop_mask(
                a::PROPAGATE_UNMATCHED_EXTENSIONS.name,
                &config.str(&a::PROPAGATE_UNMATCHED_EXTENSIONS)?,
            )
            .map_err(config_error)?,
            file_deliver_mask: mask(&l::ALLOW_MAIL_TO_FILES, &expand_types)?,
            cmd_deliver_mask: mask(&l::ALLOW_MAIL_TO_COMMANDS, &expand_types)?,
            deliver_hdr_mask: mask(&l::PREPEND_DELIVERED_HEADER, &hdr_types)?,
            lock_mask,
            lock_conf: LockConf::from_config(config)?,
            command_time_limit: config.time(&l::COMMAND_TIME_LIMIT)? as u64,
            size_limits: (
                config.int(&l::MAILBOX_SIZE_LIMIT)? as u64,
                config.int(&params::decl::smtpd::MESSAGE_SIZE_LIMIT)? as u64,
            ),
            command_shell: config.str(&l::LOCAL_COMMAND_SHELL)?,
            export: config.list(&n::EXPORT_ENVIRONMENT)?,
            cmd_exp_filter: config.str(&l::COMMAND_EXPANSION_FILTER)?,
            fwd_exp_filter: config.str(&l::FORWARD_EXPANSION_FILTER)?,
            exec_exp_filter: config.str(&l::EXECUTION_DIRECTORY_EXPANSION_FILTER)?,
            expand_owner_alias: config.bool(&l::EXPAND_OWNER_ALIAS)?,
            owner_request_special: config.bool(&a::OWNER_REQUEST_SPECIAL)?,
            frozen_delivered: config.bool(&l::FROZEN_DELIVERED_TO)?,
            reset_owner_alias: config.bool(&l::RESET_OWNER_ALIAS)?,
            strict_mbox_owner: config.bool(&l::STRICT_MAILBOX_OWNERSHIP)?,
            stat_home_dir: config.bool(&l::REQUIRE_HOME_DIRECTORY)?,
            dup_filter_limit: config.int(&c::DUPLICATE_FILTER_LIMIT)?.max(0) as usize,
            enable_orcpt: config.bool(&c::ENABLE_ORIGINAL_RECIPIENT)?,
            myhostname: config.str(&i::MYHOSTNAME)?,
            mail_name: config.str(&i::MAIL_NAME)?,
            cleanup_service: config.str(&params::decl::submission::CLEANUP_SERVICE_NAME)?,
            ipc_timeout: std::time::Duration::from_secs(
                config.time(&params::decl::process::IPC_TIMEOUT)? as u64,
            ),
            smtputf8: config.bool(&i::SMTPUTF8_ENABLE)?,
            biff: config.bool(&l::BIFF)?,
        })
    }

    /// The file size limit from mailbox_size_limit (`pre_init`): a runaway delivery must
    /// not fill the disk. It cannot be below message_size_limit, or the agent could not
    /// write the queue file.
    pub fn pre_init(&self) {
        let (mailbox, message) = self.size_limits;
        global::file_limit::set_mailbox_limit("mailbox_size_limit", mailbox, message);
    }
}

/// One alias table, with the rights its owner gives.
pub struct AliasTable {
    /// `type:name`.
    pub spec: String,
    /// The table.
    pub maps: Maps,
    /// The owner of the table's file when it is not root (`DICT_OWNER_UNTRUSTED`):
    /// commands and files in its entries run with that user's rights.
    pub owner: Option<u32>,
}

/// The tables the agent opens before the jail.
pub struct Tables {
    /// alias_maps, one entry per table, searched in order.
    pub aliases: Vec<AliasTable>,
    /// mailbox_transport_maps.
    pub mbox_transport: Option<Maps>,
    /// The files behind the tables: a rebuilt table restarts the agent.
    pub watch: global::table_watch::TableWatch,
    /// mailbox_command_maps.
    pub mbox_command: Option<Maps>,
    /// fallback_transport_maps.
    pub fallback_transport: Option<Maps>,
}

impl Tables {
    /// Opens what main.cf names. A table that cannot be opened becomes a surrogate whose
    /// lookups fail (dict::open, as in Postfix); a malformed list is fatal.
    pub fn open(config: &Config) -> Tables {
        let fail = |e: &dyn std::fmt::Display| -> ! { log::msg_fatal!("{e}") };
        let utf8 = config
            .bool(&params::decl::identity::SMTPUTF8_ENABLE)
            .unwrap_or(false);
        let flags = dict::Flags {
            utf8,
            ..dict::Flags::default()
        };
        let value = |param: &'static params::def::Param| {
            config.str(param).unwrap_or_else(|e| fail(&e.message))
        };
        let mut watch = global::table_watch::TableWatch::default();
        for param in [
            &params::decl::address::ALIAS_MAPS,
            &l::MAILBOX_TRANSPORT_MAPS,
            &l::MAILBOX_COMMAND_MAPS,
            &l::FALLBACK_TRANSPORT_MAPS,
        ] {
            watch.watch(&value(param));
        }
        let aliases = util::tokens::split_braced(
            &value(&params::decl::address::ALIAS_MAPS),
            util::tokens::COMMA_SPACE,
        )
        .unwrap_or_else(|e| fail(&e))
        .into_iter()
        .map(|spec| AliasTable {
            spec: spec.to_string(),
            maps: Maps::new("alias_maps", spec, flags).unwrap_or_else(|e| fail(&e)),
            owner: table_owner(spec),
        })
        .collect();
        let maps = |param: &'static params::def::Param| {
            let text = value(param);
            (!text.trim().is_empty())
                .then(|| Maps::new(param.name, &text, flags).unwrap_or_else(|e| fail(&e)))
        };
        Tables {
            aliases,
            mbox_transport: maps(&l::MAILBOX_TRANSPORT_MAPS),
            mbox_command: maps(&l::MAILBOX_COMMAND_MAPS),
            fallback_transport: maps(&l::FALLBACK_TRANSPORT_MAPS),
            watch,
        }
    }

    /// Looks `name` up in alias_maps (`maps_find(alias_maps, ...)`).
    pub fn alias_find(&self, name: &str) -> Result<Option<String>, MapsError> {
        for table in &self.aliases {
            if let Some(value) = table.maps.find(name, false)? {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

/// The uid that owns a file-based table when it is not root (Postfix's dict owner);
/// None for root-owned and for tables without a file.
fn table_owner(spec: &str) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    let (kind, name) = spec.split_once(':')?;
    let candidates: Vec<String> = match kind {
        "hash" | "btree" => vec![format!("{name}.db")],
        "lmdb" => vec![format!("{name}.lmdb")],
        "cdb" => vec![format!("{name}.cdb")],
        "dbm" | "sdbm" => vec![format!("{name}.pag"), format!("{name}.dir")],
        "texthash" | "regexp" | "pcre" | "cidr" => vec![name.to_string()],
        _ => return None,
    };
    let uid = candidates
        .iter()
        .find_map(|path| std::fs::metadata(path).ok())?
        .uid();
    (uid != 0).then_some(uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_owners() {
        let dir = std::env::temp_dir().join(format!("ironpost-local-owner-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("aliases");
        std::fs::write(&file, "a b\n").unwrap();
        std::os::unix::fs::chown(&file, Some(65534), None).ok();
        let spec = format!("texthash:{}", file.display());
        let owner = table_owner(&spec);
        if sys::getuid() == 0 {
            assert_eq!(owner, Some(65534));
        }
        assert_eq!(table_owner("static:x"), None);
        assert_eq!(table_owner("hash:/nonexistent/aliases"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
