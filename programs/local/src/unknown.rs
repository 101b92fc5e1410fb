//! A recipient that is neither an alias nor a UNIX account: fallback_transport_maps,
//! fallback_transport, luser_relay, or a bounce ("unknown user").
//!
//! Postfix counterpart: `local/unknown.c` (`deliver_unknown`). Mail for postmaster and
//! MAILER-DAEMON without an alias is discarded with a warning rather than bounced, so
//! that a missing alias does not make bounces bounce.

use crate::state::{State, UserAttr};
use crate::{Local, REWRITE_CANON};

/// Delivers to the unknown user of `state` (`deliver_unknown`).
pub fn deliver_unknown(local: &mut Local, mut state: State, usr_attr: UserAttr) -> i32 {
    state.level += 1;
    state.log("deliver_unknown");
    if local
        .dup_filter
        .been_here(&format!("deliver_unknown {}", state.msg_attr.local))
    {
        return 0;
    }
    if let Some(maps) = &local.tables.fallback_transport {
        match maps.find(&state.msg_attr.user, false) {
            Ok(Some(transport)) => {
                state.msg_attr.rcpt.offset = -1;
                return crate::pass::deliver_pass_all(local, &transport, &state);
            }
            Ok(None) => {}
            Err(_) => {
                state.simple("4.3.0", "table lookup failure".into());
                return local.defer_append(&state);
            }
        }
    }
    let settings = local.settings;
    if !settings.fallback_transport.is_empty() {
        state.msg_attr.rcpt.offset = -1;
        let transport = settings.fallback_transport.clone();
        return crate::pass::deliver_pass_all(local, &transport, &state);
    }
    if !settings.luser_relay.is_empty() {
        state.msg_attr.unmatched = None;
        let expanded = crate::expand::local_expand(
            &settings.luser_relay,
            &state,
            &usr_attr,
            None,
            &settings.rcpt_delim,
        )
        .map(|e| e.text)
        .unwrap_or_default();
        let canon = local
            .rewriter
            .rewrite(REWRITE_CANON, &util::eight_bit::to_bytes(&expanded));
        if util::eight_bit::to_text(&canon) == state.msg_attr.rcpt.address {
            let reason = format!("unknown user: \"{}\"", state.msg_attr.user);
            state.simple("5.1.1", reason);
            return local.bounce_append(&state);
        }
        return crate::resolve::deliver_resolve_addr(local, state, usr_attr, &expanded);
    }
    let user = state.msg_attr.user.clone();
    // The user name is case-folded, so only postmaster can match here, as in Postfix.
    if user == "MAILER-DAEMON" || user == "postmaster" {
        log::msg_warn!("required alias not found: {user}");
        state.simple("2.0.0", "discarded".into());
        return local.sent(&state);
    }
    state.simple("5.1.1", format!("unknown user: \"{user}\""));
    local.bounce_append(&state)
}
