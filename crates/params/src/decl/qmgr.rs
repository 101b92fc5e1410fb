//! The queue manager's own parameters (the shared queue ones are in queue.rs).
//!
//! Postfix counterpart: global/mail_params.h (qmgr), qmgr/qmgr.c tables.

crate::params! {
    /// The master.cf service name of the defer service, which keeps per-message logs of
    /// recipients whose delivery was postponed and sends delay notifications. The default
    /// is defer. Added in Postfix 1.1.
    "defer_service_name" DEFER_SERVICE_NAME: Str = "defer", min 1;
    /// Transports whose mail the queue manager keeps in the queue instead of delivering, a
    /// list of master.cf service names; `sendmail -q` and `postqueue -f` do not change that.
    /// The default is empty.
    "defer_transports" DEFER_TRANSPORTS: Str = "";
    /// The next hop for mail sent to a content_filter that names no next hop: empty
    /// (the default) means the recipient's domain, or $myhostname for a recipient without
    /// one, as Postfix 2.7 and later do.
    "default_filter_nexthop" DEFAULT_FILTER_NEXTHOP: Str = "";
    /// Address verification probes the queue manager keeps in the active queue before it
    /// defers further ones at once ("4.3.2 Too many address verification requests"), a
    /// safety net behind the verify service's own limits. The default is 5000 (a quarter
    /// of qmgr_message_active_limit's default). Added in Postfix 3.1.
    "address_verify_pending_request_limit" ADDRESS_VERIFY_PENDING_REQUEST_LIMIT: Int = "5000", min 1;
    /// How long the queue manager waits for a delivery agent to report the status of one
    /// delivery request before it gives up with a fatal error. Specify a positive time with
    /// optional unit suffix s, m, h, d or w; the default is 1000s. Added in Postfix 2.8.
    "qmgr_daemon_timeout" QMGR_DAEMON_TIMEOUT: Time(b's') = "1000s", min 1;
    /// How long the queue manager waits for a delivery agent to answer the connection
    /// before it treats the agent as broken. Specify a positive time with optional unit
    /// suffix s, m, h, d or w; the default is 60s. Added in Postfix 2.8.
    "qmgr_ipc_timeout" QMGR_IPC_TIMEOUT: Time(b's') = "60s", min 1;
    /// How long the queue manager leaves a transport alone after one of its delivery agents
    /// could not be reached or failed. Specify a positive time with optional unit suffix
    /// s, m, h, d or w; the default is 60s.
    "transport_retry_time" TRANSPORT_RETRY_TIME: Time(b's') = "60s", min 1;
    /// Parallel deliveries to one recipient through the local transport (each local
    /// recipient is a destination of its own). The default is 2; 0 means no limit.
    "local_destination_concurrency_limit" LOCAL_DESTINATION_CONCURRENCY_LIMIT: Int = "2", min 0;
    /// Recipients per delivery request for the local transport. The default 1 makes each
    /// local recipient a destination of its own, so concurrency limits apply per user.
    "local_destination_recipient_limit" LOCAL_DESTINATION_RECIPIENT_LIMIT: Int = "1", min 0;
}
