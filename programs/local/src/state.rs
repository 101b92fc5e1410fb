//! The delivery state that travels down the expansion of one recipient, and the status
//! reports every delivery path ends in.
//!
//! Postfix counterparts: `local/local.h` (`LOCAL_STATE`, `DELIVER_ATTR`, `USER_ATTR` and
//! their `SET_`/`RESET_` macros), `local/deliver_attr.c` and `local/bounce_workaround.c`.
//! As in Postfix, the message and user attributes are passed by value: an alias, an
//! :include: file or a .forward file changes them for what it expands to, and the
//! caller's copy stays as it was.

use crate::{Local, REWRITE_CANON};
use global::dsn_print::Dsn;
use global::rcpt_print::Recipient;

/// Where an address came from, for allow_mail_to_commands and allow_mail_to_files
/// (`EXPAND_TYPE_*`).
pub mod exp_type {
    /// An alias table.
    pub const ALIAS: u32 = 1 << 0;
    /// A .forward file.
    pub const FWD: u32 = 1 << 1;
    /// An :include: file.
    pub const INCL: u32 = 1 << 2;
}

/// What a delivery is about (`DELIVER_ATTR`, without what the request itself holds).
#[derive(Debug, Clone, Default)]
pub struct MsgAttr {
    /// The envelope sender (an owner- alias replaces it).
    pub sender: String,
    /// DSN ENVID.
    pub dsn_envid: String,
    /// DSN RET.
    pub dsn_ret: i32,
    /// The recipient being delivered.
    pub rcpt: Recipient,
    /// Its domain, when it has one.
    pub domain: Option<String>,
    /// Its local part, case-folded.
    pub local: String,
    /// The local part without the extension.
    pub user: String,
    /// The extension, without the delimiter.
    pub extension: Option<String>,
    /// The extension an alias or .forward lookup did not use, to put back on what it
    /// expands to.
    pub unmatched: Option<String>,
    /// Who gets reports about this part of the expansion (an owner- alias, a .forward
    /// file's user, an :include: file's recipient).
    pub owner: Option<String>,
    /// The address for the Delivered-To: header.
    pub delivered: Option<String>,
    /// `exp_type` bits: where the current address came from.
    pub exp_type: u32,
    /// The alias or user being expanded, so that an alias that lists itself delivers.
    pub exp_from: Option<String>,
    /// The status text of the last step.
    pub why: Dsn,
}

/// Whose rights a command or file delivery uses (`USER_ATTR`); all empty means the
/// default_privs user.
#[derive(Debug, Clone, Default)]
pub struct UserAttr {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Home directory.
    pub home: Option<String>,
    /// Login name (for biff).
    pub logname: Option<String>,
    /// Login shell.
    pub shell: Option<String>,
}

impl UserAttr {
    /// The attributes of `pw` (`SET_USER_ATTR`).
    pub fn of(pw: &Passwd) -> UserAttr {
        UserAttr {
            uid: pw.uid,
            gid: pw.gid,
            home: Some(pw.dir.clone()),
            logname: Some(pw.name.clone()),
            shell: Some(pw.shell.clone()),
        }
    }
}

/// A password file entry.
#[derive(Debug, Clone)]
pub struct Passwd {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Home directory.
    pub dir: String,
    /// Shell.
    pub shell: String,
}

/// The user found last, kept for the life of the process as Postfix's mypwd.c keeps
/// `last_pwd`: the same recipient again (every message of a mailing list, a benchmark's
/// user) costs no reading of the password file, twice per delivery (.forward, then the
/// mailbox). A user who is not found is not kept.
static LAST: std::sync::Mutex<Option<Passwd>> = std::sync::Mutex::new(None);

/// The entry `matches` picks from the one kept, else the lookup's (then kept).
fn cached(
    matches: impl Fn(&Passwd) -> bool,
    lookup: impl FnOnce() -> Result<Option<sys::nix::unistd::User>, sys::nix::errno::Errno>,
) -> Result<Option<Passwd>, std::io::Error> {
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pw) = last.as_ref().filter(|pw| matches(pw)) {
        return Ok(Some(pw.clone()));
    }
    let found = passwd(lookup())?;
    if found.is_some() {
        last.clone_from(&found);
    }
    Ok(found)
}

/// Looks a user up by name (`mypwnam_err`): Ok(None) when there is none.
pub fn getpwnam(name: &str) -> Result<Option<Passwd>, std::io::Error> {
    cached(
        |pw| pw.name == name,
        || sys::nix::unistd::User::from_name(name),
    )
}

/// Looks a user up by id (`mypwuid_err`).
pub fn getpwuid(uid: u32) -> Result<Option<Passwd>, std::io::Error> {
    cached(
        |pw| pw.uid == uid,
        || sys::nix::unistd::User::from_uid(sys::nix::unistd::Uid::from_raw(uid)),
    )
}

fn passwd(
    found: Result<Option<sys::nix::unistd::User>, sys::nix::errno::Errno>,
) -> Result<Option<Passwd>, std::io::Error> {
    match found {
        Ok(user) => Ok(user.map(|u| Passwd {
            name: u.name,
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
            dir: u.dir.to_string_lossy().into_owned(),
            shell: u.shell.to_string_lossy().into_owned(),
        })),
        Err(e) => Err(std::io::Error::from(e)),
    }
}

/// The signature the sent, bounce and defer clients share.
type StatusClient = fn(
    &global::bounce::StatusConf,
    i32,
    &str,
    &global::msg_stats::MsgStats,
    &Recipient,
    &str,
    &Dsn,
) -> i32;

/// The per-recipient state (`LOCAL_STATE` less the request-wide parts in [`Local`]).
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Recursion depth, for the nesting limits and -v logging.
    pub level: usize,
    /// The message attributes.
    pub msg_attr: MsgAttr,
}

impl State {
    /// `msg_attr.why` set to a status without remote diagnostics (`dsb_simple`).
    pub fn simple(&mut self, status: &str, reason: String) {
        self.msg_attr.why = Dsn::simple(status, &reason);
    }

    /// Logs the state for -v (`MSG_LOG_STATE`).
    pub fn log(&self, myname: &str) {
        if log::verbose() > 0 {
            let a = &self.msg_attr;
            log::msg_info!(
                "{myname}[{}]: local {} recip {} exten {} deliver {} exp_from {}",
                self.level,
                a.local,
                a.rcpt.address,
                a.extension.as_deref().unwrap_or(""),
                a.delivered.as_deref().unwrap_or(""),
                a.exp_from.as_deref().unwrap_or("")
            );
        }
    }

    /// Sets the owner and the envelope sender (`SET_OWNER_ATTR`).
    pub fn set_owner(&mut self, who: &str) {
        self.msg_attr.sender = who.to_string();
        self.msg_attr.owner = Some(who.to_string());
    }
}

impl Local<'_> {
    /// The trace flags of the request, for the status clients (`BOUNCE_FLAGS`).
    pub fn bounce_flags(&self) -> i32 {
        global::deliver_request::trace_flags(self.request.flags)
    }

    /// The recipient was delivered (`sent`).
    pub fn sent(&self, state: &State) -> i32 {
        self.report(global::sent::sent, state)
    }

    /// The recipient bounces (`bounce_append`).
    pub fn bounce_append(&self, state: &State) -> i32 {
        self.report(global::bounce::bounce_append, state)
    }

    /// The recipient is deferred (`defer_append`).
    pub fn defer_append(&self, state: &State) -> i32 {
        self.report(global::defer::defer_append, state)
    }

    /// Tells a status client about the recipient of `state`, with its status
    /// (`BOUNCE_ATTR` / `SENT_ATTR`).
    fn report(&self, client: StatusClient, state: &State) -> i32 {
        let a = &state.msg_attr;
        client(
            &self.settings.status,
            self.bounce_flags(),
            &self.request.queue_id,
            &self.request.msg_stats,
            &a.rcpt,
            self.service,
            &a.why,
        )
    }

    /// A success notice for NOTIFY=SUCCESS when an alias or .forward file was expanded
    /// (`trace_append` with the "expanded" or "delivered" action).
    pub fn trace_expanded(&self, state: &mut State, action: &str) {
        state.msg_attr.why = Dsn {
            action: action.to_string(),
            ..Dsn::simple("2.0.0", "alias expanded")
        };
        let a = &state.msg_attr;
        let _ = global::trace::trace_append(
            &self.settings.status,
            0,
            &self.request.queue_id,
            &self.request.msg_stats,
            &a.rcpt,
            self.service,
            &a.why,
        );
    }

    /// Defers on a 4.x.x status, else bounces.
    pub fn defer_or_bounce(&self, state: &State) -> i32 {
        if state.msg_attr.why.status.starts_with('4') {
            self.defer_append(state)
        } else {
            self.bounce_append(state)
        }
    }

    /// A failure reported to the owner- alias of the recipient when there is one, with
    /// that owner as the sender of the notice (`bounce_workaround`): a delivery agent
    /// cannot change the envelope sender of the message, so the one recipient gets a
    /// notice of its own.
    pub fn bounce_workaround(&mut self, mut state: State) -> i32 {
        let mut owner = None;
        if self.settings.owner_request_special {
            let address = state.msg_attr.rcpt.address.clone();
            let find = |local: &Local, addr: &str| {
                let lhs = format!("owner-{}", addr.rsplit_once('@').map_or(addr, |(l, _)| l));
                let rhs = local.tables.alias_find(&lhs);
                (lhs, rhs)
            };
            let (mut lhs, mut rhs) = find(self, &address);
            if matches!(rhs, Ok(None))
                && let Some(stripped) = self.strip_extension(&address)
            {
                (lhs, rhs) = find(self, &stripped);
            }
            match rhs {
                Err(_) => {
                    state.simple("4.3.0", "alias database unavailable".into());
                    return self.defer_append(&state);
                }
                Ok(Some(expansion)) => {
                    let who = if self.settings.expand_owner_alias {
                        expansion
                    } else {
                        lhs
                    };
                    let canon = self.rewriter.rewrite_internal(REWRITE_CANON, &who);
                    state.set_owner(&canon);
                    owner = Some(canon);
                }
                Ok(None) => {}
            }
        }
        if owner.is_none() || state.msg_attr.why.status.starts_with('4') {
            return self.defer_or_bounce(&state);
        }
        let a = &state.msg_attr;
        let envelope = global::bounce::Envelope {
            queue: &self.request.queue_name,
            id: &self.request.queue_id,
            encoding: &self.request.encoding,
            smtputf8: self.request.smtputf8,
            sender: &a.sender,
            dsn_envid: &a.dsn_envid,
            dsn_ret: a.dsn_ret,
        };
        global::bounce::bounce_one(
            &self.settings.status,
            self.bounce_flags(),
            &envelope,
            &self.request.msg_stats,
            &a.rcpt,
            self.service,
            &a.why,
        )
    }

    /// `address` without its recipient_delimiter extension (`strip_addr`), None when it
    /// has none.
    pub fn strip_extension(&self, address: &str) -> Option<String> {
        let (local, domain) = match address.rfind('@') {
            Some(at) => (&address[..at], &address[at..]),
            None => (address, ""),
        };
        let (user, _) = self.split_local(local)?;
        Some(format!("{user}{domain}"))
    }

    /// The password entry of the recipient's user; a lookup error defers the recipient
    /// (Err: the status), as every step of Postfix's local that looks a user up does.
    pub fn lookup_user(&self, state: &mut State) -> Result<Option<Passwd>, i32> {
        getpwnam(&state.msg_attr.user).map_err(|e| {
            log::msg_warn!(
                "error looking up passwd info for {}: {}",
                state.msg_attr.user,
                sys::os_error(&e)
            );
            state.simple("4.0.0", "user lookup error".into());
            self.defer_append(state)
        })
    }

    /// (user, extension) of a local part at recipient_delimiter (`split_addr`).
    pub fn split_local(&self, local: &str) -> Option<(String, String)> {
        self.settings.addr.with(|c| {
            global::mail_addr_find::split_localpart(local, c)
                .map(|(u, e)| (u.to_string(), e.to_string()))
        })
    }
}
