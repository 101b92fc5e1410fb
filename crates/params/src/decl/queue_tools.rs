//! The queue tools: postqueue, showq, mailq.
//!
//! Postfix counterpart: global/mail_params.h (showq_service_name,
//! authorized_flush_users, authorized_mailq_users), postqueue/postqueue.c tables.

crate::params! {
    /// The master.cf service name of the showq server, which lists the mail queue for
    /// postqueue -p and -j, mailq and sendmail -bp. The default is showq. Added in
    /// Postfix 2.0.
    "showq_service_name" SHOWQ_SERVICE_NAME: Str = "showq", min 1;
    /// The users who may flush the mail queue with postqueue -f, -s and -i and
    /// sendmail -q: a list of user names, /file/name or type:table patterns, with
    /// !pattern to exclude; a user without a password file entry is "unknown". root and
    /// the mail_owner may always. The default, static:anyone, allows everyone. Added in
    /// Postfix 2.2.
    "authorized_flush_users" AUTHORIZED_FLUSH_USERS: Str = "static:anyone";
    /// The users who may list the mail queue with postqueue -p and -j, mailq and
    /// sendmail -bp, as for authorized_flush_users. root and the mail_owner may always.
    /// The default, static:anyone, allows everyone. Added in Postfix 2.2.
    "authorized_mailq_users" AUTHORIZED_MAILQ_USERS: Str = "static:anyone";
}
