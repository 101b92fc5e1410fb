//! Alias expansion: a local part found in alias_maps is replaced by what the entry
//! lists (addresses, /file/names, |commands, :include: files).
//!
//! Postfix counterpart: `local/alias.c` (`deliver_alias`). The rights for files and
//! commands are the alias table owner's (default_privs for a root-owned table); an
//! `owner-name` alias becomes the envelope sender, so that delivery problems go to the
//! list owner; DSN parameters are handled as RFC 3461 says for lists and aliases.

use crate::state::{State, UserAttr, exp_type, getpwuid};
use crate::{Local, REWRITE_CANON};
use global::dsn_mask::{NOTIFY_NEVER, NOTIFY_SUCCESS};

/// Delivers to the expansion of alias `name`; None when there is no such alias.
pub fn deliver_alias(
    local: &mut Local,
    mut state: State,
    _usr_attr: UserAttr,
    name: &str,
) -> Option<i32> {
    state.level += 1;
    state.log("deliver_alias");
    // An alias that lists itself delivers to the user of that name, as sendmail does.
    if state
        .msg_attr
        .exp_from
        .as_ref()
        .is_some_and(|from| dict::casefold(from) == dict::casefold(name))
    {
        return None;
    }
    if state.level > 100 {
        log::msg_warn!("alias database loop for {name}");
        state.simple("5.4.6", format!("alias database loop for {name}"));
        return Some(local.bounce_append(&state));
    }
    state.msg_attr.exp_from = Some(name.to_string());
    let tables = local.tables;
    for table in &tables.aliases {
        // Read as Postfix's alias.c does, with dict_get rather than maps_find: a failed
        // lookup is logged once, below, without maps_find's "lookup error" line.
        let found = table
            .maps
            .dicts()
            .iter()
            .map(|dict| dict.lookup(name))
            .find(|answer| !matches!(answer, Ok(None)))
            .unwrap_or(Ok(None));
        let result = match found {
            Ok(Some(result)) => result,
            Ok(None) => {
                if log::verbose() > 0 {
                    log::msg_info!("deliver_alias: {}: {name} not found", table.spec);
                }
                continue;
            }
            Err(_) => {
                let (kind, file) = table.spec.split_once(':').unwrap_or(("", &table.spec));
                log::msg_warn!("{kind}:{file}: lookup of '{name}' failed");
                state.simple("4.3.0", "alias database unavailable".into());
                return Some(local.defer_append(&state));
            }
        };
        if log::verbose() > 0 {
            log::msg_info!("deliver_alias: {}: {name} = {result}", table.spec);
        }
        // An address probe learns what the alias is and nothing more.
        if local.request.flags & global::deliver_request::DEL_REQ_FLAG_MTA_VRFY != 0 {
            state.simple("2.0.0", format!("aliased to {result}"));
            return Some(local.sent(&state));
        }
        state.msg_attr.exp_type = exp_type::ALIAS;
        // Files and commands get the table owner's rights, default_privs for root's.
        let usr_attr = match table.owner {
            None => UserAttr::default(),
            Some(uid) => match getpwuid(uid) {
                Ok(Some(pw)) => UserAttr::of(&pw),
                failed => {
                    match failed {
                        Err(e) => log::msg_warn!(
                            "cannot find alias database owner for {}: {}",
                            table.spec,
                            sys::os_error(&e)
                        ),
                        _ => log::msg_warn!("cannot find alias database owner for {}", table.spec),
                    }
                    state.simple("4.3.0", "cannot find alias database owner".into());
                    return Some(local.defer_append(&state));
                }
            },
        };
        // Where delivery problems go: the owner- alias, if there is one.
        let owner = local
            .settings
            .owner_request_special
            .then(|| format!("owner-{name}"));
        let owner_rhs = match &owner {
            Some(owner) => local.tables.alias_find(owner),
            None => Ok(None),
        };
        let canon_owner = match (&owner, &owner_rhs) {
            (Some(owner), Ok(Some(rhs))) => {
                let who = if local.settings.expand_owner_alias {
                    rhs
                } else {
                    owner
                };
                let canon = local.rewriter.rewrite_internal(REWRITE_CANON, who);
                state.set_owner(&canon);
                Some(canon)
            }
            _ => {
                if local.settings.reset_owner_alias {
                    state.msg_attr.owner = None;
                }
                None
            }
        };
        if !local.settings.frozen_delivered {
            state.msg_attr.delivered = Some(state.msg_attr.rcpt.address.clone());
        }
        if owner.is_some() && owner_rhs.is_err() {
            state.simple("4.3.0", "alias database unavailable".into());
            return Some(local.defer_append(&state));
        }
        // RFC 3461: a list (new sender) gets no ENVID, RET or ORCPT from the original; an
        // alias passes them on; neither passes NOTIFY=SUCCESS on, which is answered here.
        let saved = state.msg_attr.clone();
        let notify = saved.rcpt.dsn_notify;
        state.msg_attr.rcpt.dsn_notify = if notify == NOTIFY_SUCCESS {
            NOTIFY_NEVER
        } else {
            notify & !NOTIFY_SUCCESS
        };
        if canon_owner.is_some() {
            state.msg_attr.dsn_envid.clear();
            state.msg_attr.dsn_ret = 0;
            state.msg_attr.rcpt.dsn_orcpt.clear();
            state.msg_attr.rcpt.orig_addr.clear();
        }
        let mut alias_count = 0;
        let mut status = crate::token::deliver_token_string(
            local,
            state.clone(),
            usr_attr,
            &result,
            Some(&mut alias_count),
        );
        if alias_count < 1 {
            log::msg_warn!("no recipient in alias lookup result for {name}");
            state.simple("4.3.0", "alias database unavailable".into());
            status = local.defer_append(&state);
        } else if notify & NOTIFY_SUCCESS != 0 {
            state.msg_attr.rcpt.dsn_notify = notify;
            if canon_owner.is_some() {
                state.msg_attr.dsn_envid = saved.dsn_envid;
                state.msg_attr.dsn_ret = saved.dsn_ret;
                state.msg_attr.rcpt.dsn_orcpt = saved.rcpt.dsn_orcpt;
            }
            let action = if canon_owner.is_some() {
                "delivered"
            } else {
                "expanded"
            };
            local.trace_expanded(&mut state, action);
        }
        return Some(status);
    }
    None
}
