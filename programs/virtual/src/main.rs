//! virtual - delivers mail for virtual mailbox domains: each recipient's mailbox or
//! maildir comes from virtual_mailbox_maps (under virtual_mailbox_base), its owner from
//! virtual_uid_maps and virtual_gid_maps.
//!
//! Postfix counterpart: `virtual/virtual.c`, on the single-client skeleton, privileged:
//! the process runs as mail_owner and becomes the recipient's uid and gid only while it
//! writes a mailbox, so that quotas apply. Each recipient of a request is looked up by
//! its case-folded address (mailbox.rs); a mailbox path that ends in `/` is a maildir
//! (global::maildir), any other a UNIX-style mailbox locked as virtual_mailbox_lock
//! says; an address without a mailbox bounces as an unknown user. Every outcome is
//! logged with the one delivery line, `relay=` the service name. An address probe
//! delivers nothing and says what it would do ("delivers to mailbox", "delivers to
//! maildir"). virtual_mailbox_limit is the largest file the agent writes.

mod mailbox;

use global::addr_context::AddrContext;
use global::bounce::StatusConf;
use global::deliver_completed::deliver_completed;
use global::deliver_request::{DEL_REQ_FLAG_SUCCESS, DeliverRequest};
use global::maps::Maps;
use global::mbox_conf::LockConf;
use params::Config;
use params::decl::{address as a, delivery as d};

/// What virtual reads from main.cf.
pub struct Settings {
    /// The status clients' settings, with virtual_delivery_status_filter.
    pub status: StatusConf,
    /// Queue file names and places.
    pub layout: global::mail_queue::Layout,
    /// virtual_mailbox_maps.
    pub mailbox_maps: Maps,
    /// virtual_uid_maps.
    pub uid_maps: Maps,
    /// virtual_gid_maps.
    pub gid_maps: Maps,
    /// What address lookups need (recipient_delimiter, local domains...).
    pub addr: AddrContext,
    /// virtual_mailbox_base.
    pub mailbox_base: String,
    /// virtual_minimum_uid.
    pub minimum_uid: i64,
    /// virtual_mailbox_lock, as `MBOX_*_LOCK` bits.
    pub lock_mask: u32,
    /// deliver_lock_attempts, deliver_lock_delay, stale_lock_time.
    pub lock_conf: LockConf,
    /// strict_mailbox_ownership.
    pub strict_mbox_owner: bool,
    /// enable_original_recipient (X-Original-To:).
    pub enable_orcpt: bool,
    /// mail_owner's ids: the process's own while it does not write a mailbox.
    pub owner: (u32, u32),
    /// The tables' files, to restart when one changes.
    pub watch: global::table_watch::TableWatch,
}

impl Settings {
    /// Reads main.cf and opens the tables.
    pub fn from_config(config: &Config) -> Result<Settings, params::ConfigError> {
        let error = |message: String| params::ConfigError {
            warnings: Vec::new(),
            message,
        };
        let mut watch = global::table_watch::TableWatch::default();
        // Keys are case-folded addresses already.
        let flags = dict::Flags {
            utf8: config.bool(&params::decl::identity::SMTPUTF8_ENABLE)?,
            ..dict::Flags::default()
        };
        let mut maps = |param: &'static params::def::Param| -> Result<Maps, params::ConfigError> {
            let value = config.str(param)?;
            watch.watch(&value);
            Maps::new(param.name, &value, flags).map_err(|e| error(e.to_string()))
        };
        let (mailbox_maps, uid_maps, gid_maps) = (
            maps(&a::VIRTUAL_MAILBOX_MAPS)?,
            maps(&a::VIRTUAL_UID_MAPS)?,
            maps(&a::VIRTUAL_GID_MAPS)?,
        );
        let owner_name = config.str(&params::decl::install::MAIL_OWNER)?;
        let owner = sys::user::by_name(&owner_name)
            .map(|account| (account.uid, account.gid))
            .ok_or_else(|| error(format!("unknown mail_owner user name value: {owner_name}")))?;
        let lock_text = config.str(&d::VIRTUAL_MAILBOX_LOCK)?;
        let mut status = StatusConf::from_config(config)?;
        let filter = &d::VIRTUAL_DELIVERY_STATUS_FILTER;
        status
            .bounce_client_init(filter.name, &config.str(filter)?)
            .map_err(error)?;
        Ok(Settings {
            status,
            layout: global::mail_queue::Layout::from_config(config)?,
            mailbox_maps,
            uid_maps,
            gid_maps,
            addr: AddrContext::from_config(config)?,
            mailbox_base: config.str(&a::VIRTUAL_MAILBOX_BASE)?,
            minimum_uid: config.int(&a::VIRTUAL_MINIMUM_UID)?,
            lock_mask: global::mbox_conf::mbox_lock_mask(d::VIRTUAL_MAILBOX_LOCK.name, &lock_text)
                .map_err(error)?,
            lock_conf: LockConf::from_config(config)?,
            strict_mbox_owner: config.bool(&params::decl::local::STRICT_MAILBOX_OWNERSHIP)?,
            enable_orcpt: config.bool(&params::decl::cleanup::ENABLE_ORIGINAL_RECIPIENT)?,
            owner,
            watch,
        })
    }
}

fn main() {
    let mut daemon = server::Daemon::start(server::Requirements {
        privileged: true,
        ..Default::default()
    });
    let config = &daemon.config;
    let settings = Settings::from_config(config).unwrap_or_else(|e| global::fatal_config(e));
    let limit = |param| {
        let value = config
            .int(param)
            .unwrap_or_else(|e| global::fatal_config(e));
        value.max(0) as u64
    };
    global::file_limit::set_mailbox_limit(
        d::VIRTUAL_MAILBOX_LIMIT.name,
        limit(&d::VIRTUAL_MAILBOX_LIMIT),
        limit(&params::decl::smtpd::MESSAGE_SIZE_LIMIT),
    );
    let service = daemon.service_name.clone();
    daemon.enter_jail();
    // Root again only to become a recipient while writing a mailbox.
    if let Err(e) = sys::user::set_eugid(settings.owner.0, settings.owner.1) {
        log::msg_fatal!("{e}");
    }
    server::single::serve(daemon, move |_, stream| {
        settings.watch.exit_if_changed();
        global::deliver_request::deliver_request_serve(stream, &settings.layout, |request| {
            local_deliver(&settings, request, &service)
        });
    })
}

/// Delivers each recipient of the request and marks the ones dealt with done
/// (`local_deliver`): 0 when every one was.
fn local_deliver(settings: &Settings, request: &DeliverRequest, service: &str) -> i32 {
    if log::verbose() > 0 {
        log::msg_info!(
            "local_deliver: {} from {}",
            request.queue_id,
            request.sender
        );
    }
    let mut msg_stat = 0;
    for rcpt in &request.rcpt_list {
        let rcpt_stat = mailbox::deliver_recipient(settings, request, rcpt, service);
        if rcpt_stat == 0 && request.flags & DEL_REQ_FLAG_SUCCESS != 0 {
            deliver_completed(request.file(), &request.path, rcpt.offset);
        }
        msg_stat |= rcpt_stat;
    }
    msg_stat
}
