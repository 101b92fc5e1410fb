//! What the delivery agents share (mailbox locking, address probes) and the virtual
//! delivery agent's own limits; the virtual mailbox tables are in address.rs, next to the
//! resolver's use of them.
//!
//! Postfix counterpart: global/mail_params.h (delivery agents), virtual/virtual.c tables.

crate::params! {
    /// Whether the address verification service keeps the result of a probe that failed,
    /// so that repeated probes of a bad address cost nothing. Value is yes or no; the
    /// default is yes. Added in Postfix 2.1.
    "address_verify_negative_cache" ADDRESS_VERIFY_NEGATIVE_CACHE: Bool = "yes";
    /// How the local delivery agent locks a UNIX-style mailbox: one or more of flock, fcntl
    /// and dotlock, separated by commas or white space; `postconf -l` lists what the
    /// system supports. The default on Linux is fcntl, dotlock.
    "mailbox_delivery_lock" MAILBOX_DELIVERY_LOCK: Str = "fcntl, dotlock";
    /// How many times a delivery agent tries to lock a mailbox or file before it defers
    /// the delivery. The default is 20.
    "deliver_lock_attempts" DELIVER_LOCK_ATTEMPTS: Int = "20", min 1;
    /// The pause between two attempts to lock a mailbox or file. Specify a time with
    /// optional unit suffix s, m, h, d or w; the default is 1s.
    "deliver_lock_delay" DELIVER_LOCK_DELAY: Time(b's') = "1s", min 1;
    /// How old a dot-lock file must be before a delivery agent removes it as stale.
    /// Specify a time with optional unit suffix; the default is 500s.
    "stale_lock_time" STALE_LOCK_TIME: Time(b's') = "500s", min 1;
    /// Optional tables that replace the status code and text of a delivery agent's
    /// results (`X.Y.Z text` in, `X.Y.Z text` out; success stays success), for the agents
    /// whose own *_delivery_status_filter names no other. The default is empty. Added in
    /// Postfix 3.0.
    "default_delivery_status_filter" DEFAULT_DELIVERY_STATUS_FILTER: Str = "";
    /// The delivery status filter of the virtual delivery agent, in the form of
    /// default_delivery_status_filter. The default is $default_delivery_status_filter.
    "virtual_delivery_status_filter" VIRTUAL_DELIVERY_STATUS_FILTER: Str = "$default_delivery_status_filter";
    /// The delivery status filter of the local delivery agent, in the form of
    /// default_delivery_status_filter. The default is $default_delivery_status_filter.
    "local_delivery_status_filter" LOCAL_DELIVERY_STATUS_FILTER: Str = "$default_delivery_status_filter";
    /// The delivery status filter of the pipe delivery agent, in the form of
    /// default_delivery_status_filter. The default is $default_delivery_status_filter.
    "pipe_delivery_status_filter" PIPE_DELIVERY_STATUS_FILTER: Str = "$default_delivery_status_filter";
    /// The largest mailbox or maildir file the virtual delivery agent writes, in bytes; 0
    /// means no limit. It must not be smaller than the message size limit. The default is
    /// 51200000.
    "virtual_mailbox_limit" VIRTUAL_MAILBOX_LIMIT: Int = "51200000", min 0;
    /// How the virtual delivery agent locks a UNIX-style mailbox, in the form of
    /// mailbox_delivery_lock. The default on Linux is fcntl, dotlock.
    "virtual_mailbox_lock" VIRTUAL_MAILBOX_LOCK: Str = "fcntl, dotlock";
}
