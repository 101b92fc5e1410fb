//! Mail entering the system: what pickup, smtpd and cleanup share.
//!
//! Postfix counterpart: global/mail_params.h (content_filter, receive_override_options,
//! cleanup_service_name, pickup_service_name, trigger_timeout, authorized_submit_users,
//! local_login_sender_maps), global/input_transp.c. line_length_limit is with smtpd.

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
    /// The master.cf service name of the pickup server, which postdrop wakes up after it
    /// has put a message into the maildrop queue. The default is pickup. Added in Postfix
    /// 2.0.
    "pickup_service_name" PICKUP_SERVICE_NAME: Str = "pickup", min 1;
    /// The time limit for sending a trigger to a Postfix daemon, such as postdrop's wakeup
    /// of the pickup service or a wakeup of the queue manager. Specify a time with an
    /// optional unit suffix s, m, h, d or w (default unit seconds); the default is 10s.
    "trigger_timeout" TRIGGER_TIMEOUT: Time(b's') = "10s", min 1;
    /// The users who may submit mail with sendmail (and with the privileged postdrop helper):
    /// a list of user names, /file/name or type:table patterns, with !pattern to exclude;
    /// a user without a password file entry is "unknown". The default, static:anyone,
    /// allows everyone. Added in Postfix 2.2.
    "authorized_submit_users" AUTHORIZED_SUBMIT_USERS: Str = "static:anyone";
    /// Tables searched by the UNIX login name of a local submitter, that return the
    /// envelope sender patterns that user may use, separated by space or comma: an address
    /// (matched without its extension), @domain, * for any sender, or the
    /// empty_address_local_login_sender_maps_lookup_key for the null sender. The default,
    /// static:*, allows every sender. Added in Postfix 3.6.
    "local_login_sender_maps" LOCAL_LOGIN_SENDER_MAPS: Str = "static:*";
    /// The pattern that stands for the null sender address in local_login_sender_maps
    /// results. The default is <>. Added in Postfix 3.6.
    "empty_address_local_login_sender_maps_lookup_key" EMPTY_ADDRESS_LOCAL_LOGIN_SENDER_MAPS_LOOKUP_KEY: Str = "<>", min 1;
}
