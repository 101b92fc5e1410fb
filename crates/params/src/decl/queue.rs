//! The queue: scheduling, retries, lifetimes and notifications.
//!
//! Postfix counterpart: global/mail_params.h (queue), qmgr/qmgr.c tables.

crate::params! {
    /// Interval between scans of the deferred queue by the queue manager. Specify a positive time
    /// with optional unit suffix s, m, h, d or w (default unit seconds); the default is 300s. Keep
    /// it at or below minimal_backoff_time.
    "queue_run_delay" QUEUE_RUN_DELAY: Time(b's') = "300s", min 1;
    /// Shortest wait before a deferred message is tried again; it also sets how long an unreachable
    /// destination stays in the queue manager's in-memory dead-site cache. Specify a positive time
    /// with optional unit suffix s, m, h, d or w (default unit seconds); the default is 300s. Keep
    /// it at or above queue_run_delay.
    "minimal_backoff_time" MINIMAL_BACKOFF_TIME: Time(b's') = "300s", min 1;
    /// Longest wait between delivery attempts for a deferred message; the retry interval grows up
    /// to this value. Specify a positive time with optional unit suffix s, m, h, d or w (default
    /// unit seconds); the default is 4000s. It should not be smaller than minimal_backoff_time.
    "maximal_backoff_time" MAXIMAL_BACKOFF_TIME: Time(b's') = "4000s", min 1;
    /// How long a message that keeps failing with temporary errors stays queued before it is
    /// returned as undeliverable. Specify a time with optional unit suffix s, m, h, d or w; the
    /// default unit is days and the default value is 5d. The value 0 means try only once; the upper
    /// limit is 100 days.
    "maximal_queue_lifetime" MAXIMAL_QUEUE_LIFETIME: Time(b'd') = "5d", max 8640000;
    /// Like maximal_queue_lifetime, but for bounce messages and other notifications that the mail
    /// system itself sends with a null sender. Specify a time with optional unit suffix s, m, h, d
    /// or w (default unit days); the default is 5d, 0 means a single attempt, and the upper limit
    /// is 100 days. Added in Postfix 2.1.
    "bounce_queue_lifetime" BOUNCE_QUEUE_LIFETIME: Time(b'd') = "5d", max 8640000;
    /// How long a message may be delayed before the sender gets a warning with the message headers.
    /// Specify a time with optional unit suffix s, m, h, d or w; the default unit is hours, and the
    /// default 0h disables warnings.
    "delay_warning_time" DELAY_WARNING_TIME: Time(b'h') = "0h";
    /// Largest number of messages the queue manager keeps in the active queue at once. Specify a
    /// positive integer; the default is 20000.
    "qmgr_message_active_limit" QMGR_MESSAGE_ACTIVE_LIMIT: Int = "20000", min 1;
    /// Largest number of recipients the queue manager holds in memory at once, which also bounds
    /// the size of its in-memory dead-destination cache. Specify a positive integer; the default is
    /// 20000.
    "qmgr_message_recipient_limit" QMGR_MESSAGE_RECIPIENT_LIMIT: Int = "20000", min 1;
    /// Shortest time between two warnings that mail for one destination is using up much of
    /// the active queue (more than a fifth of qmgr_message_active_limit in its entries), with
    /// hints on what to tune. Specify a time with optional unit suffix s, m, h, d or w
    /// (default unit seconds); the default is 300s, and 0 turns the warnings off. They also
    /// need helpful_warnings.
    "qmgr_clog_warn_time" QMGR_CLOG_WARN_TIME: Time(b's') = "300s";
    /// Fewest recipients the queue manager reads into memory for any message, however full the
    /// active queue is. Specify a positive integer; the default is 10.
    "qmgr_message_recipient_minimum" QMGR_MESSAGE_RECIPIENT_MINIMUM: Int = "10", min 1;
    /// Default per-transport limit on the recipients the queue manager holds in memory for the
    /// messages of one transport; a message with more is read a part at a time. Override it per
    /// transport with transport_recipient_limit. Specify a non-negative integer; the default is
    /// 20000.
    "default_recipient_limit" DEFAULT_RECIPIENT_LIMIT: Int = "20000", min 0;
    /// Default extra in-memory recipient slots per transport, kept for messages that preempt a
    /// big one, so that they can be read while the big one holds the transport's slots. Override
    /// it per transport with transport_extra_recipient_limit. The default is 1000.
    "default_extra_recipient_limit" DEFAULT_EXTRA_RECIPIENT_LIMIT: Int = "1000", min 0;
    /// Default per-transport number of free recipient slots a partly read message must have
    /// before more of its recipients are read from the queue file (fewer are read only after
    /// default_recipient_refill_delay). Override it per transport with
    /// transport_recipient_refill_limit. Specify a positive integer; the default is 100.
    "default_recipient_refill_limit" DEFAULT_RECIPIENT_REFILL_LIMIT: Int = "100", min 1;
    /// Default per-transport longest time between two reads of more recipients of a partly read
    /// message, when fewer than default_recipient_refill_limit slots are free. Override it per
    /// transport with transport_recipient_refill_delay. Specify a positive time with optional
    /// unit suffix s, m, h, d or w (default unit seconds); the default is 5s.
    "default_recipient_refill_delay" DEFAULT_RECIPIENT_REFILL_DELAY: Time(b's') = "5s", min 1;
    /// Default maximum of parallel deliveries to one destination for the smtp, lmtp, pipe and
    /// virtual agents; with a recipient limit of 1 a destination is one recipient instead of a
    /// domain. Override it per transport with transport_destination_concurrency_limit. Specify an
    /// integer; the default is 20.
    "default_destination_concurrency_limit" DEFAULT_DESTINATION_CONCURRENCY_LIMIT: Int = "20";
    /// Default maximum number of recipients in one delivery request for the smtp, lmtp, pipe and
    /// virtual agents. Setting it to 1 makes concurrency limits and rate delays apply per recipient
    /// rather than per domain. Override it per transport with
    /// transport_destination_recipient_limit; the default is 50.
    "default_destination_recipient_limit" DEFAULT_DESTINATION_RECIPIENT_LIMIT: Int = "50";
    /// Number of parallel deliveries the queue manager starts with for a destination before
    /// adjusting according to success and failure. Specify a positive integer; the default is 5,
    /// and a per-transport override is transport_initial_destination_concurrency. With 1, a single
    /// bad message can stall all mail to a site.
    "initial_destination_concurrency" INITIAL_DESTINATION_CONCURRENCY: Int = "5", min 1;
    /// How much the concurrency window of a destination grows after a delivery without a site
    /// problem: a number between 0 and 1, a fraction such as 1/8, or 1/concurrency (divided by
    /// the current window). The default, 1, adds one per success. Override it per transport with
    /// transport_destination_concurrency_positive_feedback.
    "default_destination_concurrency_positive_feedback" DEFAULT_DESTINATION_CONCURRENCY_POSITIVE_FEEDBACK: Str = "1";
    /// How much the concurrency window of a destination shrinks after a delivery that reports a
    /// site problem, in the same forms as the positive feedback; the default is 1. Override it
    /// per transport with transport_destination_concurrency_negative_feedback.
    "default_destination_concurrency_negative_feedback" DEFAULT_DESTINATION_CONCURRENCY_NEGATIVE_FEEDBACK: Str = "1";
    /// How many pseudo-cohorts of failed deliveries (one cohort is as many failures as the
    /// window) make a destination dead until minimal_backoff_time has passed; 0 never does. The
    /// default is 1. Override it per transport with
    /// transport_destination_concurrency_failed_cohort_limit.
    "default_destination_concurrency_failed_cohort_limit" DEFAULT_DESTINATION_CONCURRENCY_FAILED_COHORT_LIMIT: Int = "1";
    /// Whether the queue manager logs each concurrency feedback and window change, to tune the
    /// feedback settings. Value is yes or no; the default is no.
    "destination_concurrency_feedback_debug" DESTINATION_CONCURRENCY_FEEDBACK_DEBUG: Bool = "no";
    /// Pause between two deliveries to the same destination; a non-zero value limits the
    /// destination to one delivery at a time. Specify a time with optional unit suffix s, m, h, d
    /// or w (default unit seconds); the default, 0s, means no pause. Override it per transport
    /// with transport_destination_rate_delay.
    "default_destination_rate_delay" DEFAULT_DESTINATION_RATE_DELAY: Time(b's') = "0s";
    /// Pause between two deliveries through the same transport, whatever their destination; a
    /// non-zero value makes the transport deliver one message at a time. Specify a time with
    /// optional unit suffix (default unit seconds); the default is 0s. Override it per transport
    /// with transport_transport_rate_delay.
    "default_transport_rate_delay" DEFAULT_TRANSPORT_RATE_DELAY: Time(b's') = "0s";
    /// How often a message must be chosen for delivery before it has earned one delivery slot
    /// that a smaller message may use to jump ahead of it (the preemptive scheduler). Values
    /// below 2 turn preemption off. The default is 5; override it per transport with
    /// transport_delivery_slot_cost.
    "default_delivery_slot_cost" DEFAULT_DELIVERY_SLOT_COST: Int = "5";
    /// Delivery slots a message may borrow before it has earned them, so that small messages
    /// can preempt a big one sooner. The default is 3; override it per transport with
    /// transport_delivery_slot_loan.
    "default_delivery_slot_loan" DEFAULT_DELIVERY_SLOT_LOAN: Int = "3";
    /// Percentage of the slots a preempting message needs that the preempted one must have
    /// earned (minus the loan) before preemption happens; 0 to 100, the default is 50.
    /// Override it per transport with transport_delivery_slot_discount.
    "default_delivery_slot_discount" DEFAULT_DELIVERY_SLOT_DISCOUNT: Int = "50", min 0, max 100;
    /// How many delivery slots a message must be able to earn (recipients divided by the slot
    /// cost) before other messages may preempt it. The default is 3; override it per transport
    /// with transport_minimum_delivery_slots.
    "default_minimum_delivery_slots" DEFAULT_MINIMUM_DELIVERY_SLOTS: Int = "3";
    /// Age after which the flush service re-requests delivery for a non-empty per-destination
    /// fast flush log that nobody read, as if ETRN had been sent. Specify a positive time with
    /// optional unit suffix s, m, h, d or w (default unit hours); the default is 12h.
    "fast_flush_refresh_time" FAST_FLUSH_REFRESH_TIME: Time(b'h') = "12h", min 1;
    /// Age after which the flush service deletes an empty per-destination fast flush log that
    /// was not updated. Specify a positive time with optional unit suffix s, m, h, d or w
    /// (default unit days); the default is 7d.
    "fast_flush_purge_time" FAST_FLUSH_PURGE_TIME: Time(b'd') = "7d", min 1;
    /// Queue directories that are spread over subdirectories to keep directory sizes small, as a
    /// list of queue names such as deferred and defer (the default). Run postfix reload after a
    /// change so that the queue layout is adjusted.
    "hash_queue_names" HASH_QUEUE_NAMES: Str = "deferred, defer", min 1;
    /// Number of subdirectory levels used for the queues listed in hash_queue_names, each level
    /// named by one hexadecimal character. Specify a positive integer; the default is 1. Run
    /// postfix reload after a change.
    "hash_queue_depth" HASH_QUEUE_DEPTH: Int = "1", min 1;
    /// Whether new queue files get long, non-repeating queue IDs instead of short hexadecimal ones,
    /// which simplifies log analysis and queue migration. Value is yes or no; the default is no.
    /// Existing files keep their names; switching back renames them during postfix reload or
    /// postsuper. Added in Postfix 2.9.
    "enable_long_queue_ids" ENABLE_LONG_QUEUE_IDS: Bool = "no";
    /// Safety switch that keeps mail queued instead of returning it: local bounces become deferrals
    /// and permanent 5xx SMTP server replies are turned into 4xx. Value is yes or no; the default
    /// is no. Use it while testing configuration changes, not as a permanent setting.
    "soft_bounce" SOFT_BOUNCE: Bool = "no";
    /// Problem classes that are reported to the postmaster, in addition to the normal sender
    /// notifications: any of bounce, 2bounce, data, delay, policy, protocol, resource and software.
    /// Separate names with commas or whitespace; the default is resource, software. Reports may
    /// contain confidential data such as message content.
    "notify_classes" NOTIFY_CLASSES: Str = "resource, software";
    /// Address that receives the headers of undelivered mail and transcripts of rejected SMTP
    /// sessions, when the bounce class is in notify_classes. The default is postmaster.
    "bounce_notice_recipient" BOUNCE_NOTICE_RECIPIENT: Str = "postmaster", min 1;
    /// Address that receives undeliverable bounce messages, that is, mail that could be returned
    /// neither to the sender nor anywhere else, when the 2bounce class is in notify_classes. The
    /// default is postmaster.
    "2bounce_notice_recipient" TWO_BOUNCE_NOTICE_RECIPIENT: Str = "postmaster", min 1;
    /// Address that receives the headers of mail that is still undelivered after
    /// delay_warning_time, when the delay class is in notify_classes. The default is postmaster.
    "delay_notice_recipient" DELAY_NOTICE_RECIPIENT: Str = "postmaster", min 1;
    /// Address that receives reports about policy, protocol, resource, software and data problems,
    /// for the classes enabled in notify_classes. The default is postmaster.
    "error_notice_recipient" ERROR_NOTICE_RECIPIENT: Str = "postmaster", min 1;
    /// Sender address used for notifications that the mail system sends to the postmaster. Mail
    /// addressed to it is silently discarded, which stops bounce loops. The default is double-
    /// bounce.
    "double_bounce_sender" DOUBLE_BOUNCE_SENDER: Str = "double-bounce", min 1;
    /// Largest amount of the original message, in bytes, included in a non-delivery notice; larger
    /// messages are returned with headers only. Specify a positive integer; the default is 50000.
    /// Very large values risk bounces that are themselves too big to deliver.
    "bounce_size_limit" BOUNCE_SIZE_LIMIT: Int = "50000", min 1;
    /// Pause before accepting each new message when messages arrive faster than they are delivered,
    /// a simple form of back-pressure. Specify a time from 0 to 10 seconds with optional unit
    /// suffix (default unit seconds); 0 disables it. The default is 1s, or 0s on platforms where
    /// the feature cannot work.
    "in_flow_delay" IN_FLOW_DELAY: Time(b's') = "1s", max 10;
    /// Free space in bytes that the queue file system must have before the SMTP server accepts
    /// mail. At 0 the server still requires 1.5 times message_size_limit; set a larger value if you
    /// want more headroom. Specify a non-negative integer.
    "queue_minfree" QUEUE_MINFREE: Long = "0";
}
