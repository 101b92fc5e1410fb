//! Requests shared by the programs of one mail system.
//!
//! Postfix counterpart: `global/mail_proto.h` (`TRIGGER_REQ_WAKEUP`). Its attribute names
//! (`MAIL_ATTR_*`) are in `ipc::mail_attr`, with the attribute protocol.

/// The trigger request that means "look for work" (`TRIGGER_REQ_WAKEUP`): the master's
/// periodic wakeups and postdrop's pickup wakeup send it.
pub const TRIGGER_REQ_WAKEUP: u8 = b'W';
