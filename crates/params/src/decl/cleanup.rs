//! The cleanup server: what it adds, removes and limits while it queues a message.
//!
//! Postfix counterpart: global/mail_params.h (the cleanup section), cleanup/cleanup_init.c
//! tables, global/header_opts.c (message_drop_headers), global/mime_state.c limits.

crate::params! {
    /// The largest number of Received: headers a message may have before cleanup rejects it
    /// as a mail forwarding loop ("too many hops"). The default is 50.
    "hopcount_limit" HOPCOUNT_LIMIT: Int = "50", min 1;
    /// How many recipients of one message cleanup remembers to remove duplicates; beyond
    /// that, duplicates are kept. 0 means no limit. The default is 1000.
    "duplicate_filter_limit" DUPLICATE_FILTER_LIMIT: Int = "1000";
    /// The largest number of named attributes (A records) one message may carry in its
    /// envelope. The default is 100. Added in Postfix 2.0.
    "queue_file_attribute_count_limit" QUEUE_FILE_ATTRIBUTE_COUNT_LIMIT: Int = "100", min 1;
    /// Whether cleanup adds a missing From:, To:, Date: or Message-ID: header to mail from
    /// clients that get no header rewriting (local_header_rewrite_clients and
    /// remote_header_rewrite_domain decide); local mail always gets them. The default is
    /// no. Added in Postfix 2.6.
    "always_add_missing_headers" ALWAYS_ADD_MISSING_HEADERS: Bool = "no";
    /// An address that receives a blind carbon copy of each message that enters the mail
    /// system. The default is empty (none).
    "always_bcc" ALWAYS_BCC: Str = "";
    /// The header that cleanup adds when a message has no To:, Cc:, Resent-To: or
    /// Resent-Cc: header, e.g. "To: undisclosed-recipients:;". The default, empty, adds
    /// none. Added in Postfix 2.1.
    "undisclosed_recipients_header" UNDISCLOSED_RECIPIENTS_HEADER: Str = "";
    /// Whether cleanup records the original recipient address (the O record) with each
    /// recipient, so that delivery can report the address before rewriting, and whether
    /// recipients that differ only in their original address are kept apart when
    /// duplicates are removed. The default is yes. Added in Postfix 2.1.
    "enable_original_recipient" ENABLE_ORIGINAL_RECIPIENT: Bool = "yes";
    /// The message headers that cleanup removes, by name, separated by commas or white
    /// space. The default is bcc, content-length, resent-bcc, return-path. Added in Postfix
    /// 3.0.
    "message_drop_headers" MESSAGE_DROP_HEADERS: Str = "bcc, content-length, resent-bcc, return-path";
    /// Whether cleanup replaces each carriage return or line feed inside a line of message
    /// content with a space, so that the message cannot smuggle a second message through a
    /// later SMTP hop. The default is yes. Added in a Postfix 3.7 patch release.
    "cleanup_replace_stray_cr_lf" CLEANUP_REPLACE_STRAY_CR_LF: Bool = "yes";
    /// Whether a Content-Transfer-Encoding: 8bit (or binary) header makes cleanup mark the
    /// message as 8-bit, so that it is converted when the next hop supports only 7 bits.
    /// The default is yes. Added in Postfix 2.5.
    "detect_8bit_encoding_header" DETECT_8BIT_ENCODING_HEADER: Bool = "yes";
    /// The form of the From: header that cleanup adds when a message has none and the
    /// sender has a full name: standard (From: name <address>) or obsolete (From: address
    /// (name)). The default is standard. Added in Postfix 3.3.
    "header_from_format" HEADER_FROM_FORMAT: Str = "standard", min 1;
    /// Whether cleanup, smtp and the other MIME-aware programs see the message as plain
    /// headers and body, ignoring its MIME structure. The default is no. Added in Postfix
    /// 2.0.
    "disable_mime_input_processing" DISABLE_MIME_INPUT_PROCESSING: Bool = "no";
    /// Whether to reject mail with 8-bit text in headers and in bodies that declare no
    /// 8-bit encoding; strict_7bit_headers and strict_8bitmime_body together. The default
    /// is no. Added in Postfix 2.0.
    "strict_8bitmime" STRICT_8BITMIME: Bool = "no";
    /// Whether to reject mail with 8-bit text in message headers. The default is no. Added
    /// in Postfix 2.0.
    "strict_7bit_headers" STRICT_7BIT_HEADERS: Bool = "no";
    /// Whether to reject 8-bit message body text that declares no 8-bit encoding. The
    /// default is no. Added in Postfix 2.0.
    "strict_8bitmime_body" STRICT_8BITMIME_BODY: Bool = "no";
    /// Whether to reject mail whose multipart or message/* entities declare an encoding
    /// other than 7bit, 8bit or binary. The default is no. Added in Postfix 2.0.
    "strict_mime_encoding_domain" STRICT_MIME_ENCODING_DOMAIN: Bool = "no";
    /// How deeply multipart and message/* entities may nest before the MIME processor
    /// stops looking inside them. The default is 100. Added in Postfix 2.0.
    "mime_nesting_limit" MIME_NESTING_LIMIT: Int = "100", min 1;
    /// How many bytes of a MIME boundary string the MIME processor keeps. The default is
    /// 2048. Added in Postfix 2.0.
    "mime_boundary_length_limit" MIME_BOUNDARY_LENGTH_LIMIT: Int = "2048", min 1;
    /// The largest number of address tokens cleanup parses in one message header; the
    /// rest of the header is kept but not rewritten. The default is 10240. Added in Postfix
    /// 2.0.
    "header_address_token_limit" HEADER_ADDRESS_TOKEN_LIMIT: Int = "10240", min 1;
    /// The master.cf service name of the queue manager, which cleanup wakes up when a new
    /// message is queued. The default is qmgr. Added in Postfix 2.0.
    "queue_service_name" QUEUE_SERVICE_NAME: Str = "qmgr", min 1;
    /// The master.cf service name of the address rewriting and resolving service. The
    /// default is rewrite. Added in Postfix 2.0.
    "rewrite_service_name" REWRITE_SERVICE_NAME: Str = "rewrite", min 1;
}
