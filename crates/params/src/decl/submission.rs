//! Mail entering the system: what pickup, smtpd and cleanup share.
//!
//! Postfix counterpart: global/mail_params.h (content_filter, receive_override_options,
//! cleanup_service_name), global/input_transp.c. line_length_limit is with smtpd.

crate::params! {
    /// The transport that receives all mail after it is queued, for content inspection
    /// after queueing: transport:destination, as in a transport table; empty means no
    /// filter. pickup and smtpd stamp each new message with it, and postsuper -r discards
    /// an older one.
    "content_filter" CONTENT_FILTER: Str = "";
    /// Features of cleanup to turn off for mail this service receives, normally set with
    /// -o in master.cf before and after a content filter: no_unknown_recipient_checks,
    /// no_address_mappings, no_header_body_checks, no_milters, separated by commas or
    /// whitespace. Added in Postfix 2.1.
    "receive_override_options" RECEIVE_OVERRIDE_OPTIONS: Str = "";
    /// The master.cf service name of the cleanup server, which every mail source
    /// (pickup, smtpd, qmqpd, bounce, local forwarding) hands new messages to. Added in
    /// Postfix 2.0.
    "cleanup_service_name" CLEANUP_SERVICE_NAME: Str = "cleanup", min 1;
}
