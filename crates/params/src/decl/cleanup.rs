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
    /// Which sender addresses sender_canonical_maps rewrites: envelope_sender,
    /// header_sender, or both (separated by commas or white space). The default is both.
    /// Added in Postfix 2.2.
    "sender_canonical_classes" SENDER_CANONICAL_CLASSES: Str = "envelope_sender, header_sender", min 1;
    /// Which recipient addresses recipient_canonical_maps rewrites: envelope_recipient,
    /// header_recipient, or both (separated by commas or white space). The default is both.
    /// Added in Postfix 2.2.
    "recipient_canonical_classes" RECIPIENT_CANONICAL_CLASSES: Str = "envelope_recipient, header_recipient", min 1;
    /// How deeply virtual_alias_maps may expand an address into addresses that expand in
    /// turn, before cleanup defers the message ("unreasonable virtual_alias_maps map
    /// nesting"). The default is 1000. Added in Postfix 2.1.
    "virtual_alias_recursion_limit" VIRTUAL_ALIAS_RECURSION_LIMIT: Int = "1000", min 1;
    /// How many addresses one recipient may expand into through virtual_alias_maps before
    /// cleanup defers the message ("unreasonable virtual_alias_maps map expansion size").
    /// The default is 1000. Added in Postfix 2.1.
    "virtual_alias_expansion_limit" VIRTUAL_ALIAS_EXPANSION_LIMIT: Int = "1000", min 1;
    /// The longest address a virtual_alias_maps lookup may return; a longer one defers the
    /// message, which stops an alias that grows each time it expands. The default is 1000.
    /// Added in Postfix 3.0.
    "virtual_alias_address_length_limit" VIRTUAL_ALIAS_ADDRESS_LENGTH_LIMIT: Int = "1000", min 1;
    /// Domains whose subdomains are hidden in addresses: with example.com listed,
    /// user@host.example.com becomes user@example.com. Give domains separated by commas or
    /// white space, the first match wins; a domain preceded by ! is matched but left as it
    /// is. Which addresses are affected is set by masquerade_classes. The default is empty.
    "masquerade_domains" MASQUERADE_DOMAINS: Str = "";
    /// Local parts (user names) that are never masqueraded, such as root, separated by
    /// commas or white space, or given as /file or type:table. The default is empty.
    "masquerade_exceptions" MASQUERADE_EXCEPTIONS: Str = "";
    /// Which addresses masquerade_domains applies to: one or more of envelope_sender,
    /// envelope_recipient, header_sender and header_recipient. The default leaves
    /// envelope recipients alone. Added in Postfix 1.1.
    "masquerade_classes" MASQUERADE_CLASSES: Str = "envelope_sender, header_sender, header_recipient";
    /// The master.cf service name of the bounce service, which keeps per-message logs of
    /// undeliverable recipients and sends non-delivery notifications. The default is
    /// bounce. Added in Postfix 1.1.
    "bounce_service_name" BOUNCE_SERVICE_NAME: Str = "bounce", min 1;
    /// The master.cf service name of the trace service, which keeps per-message logs of
    /// delivery attempts for sendmail -v and -bv and for DSN SUCCESS notifications. The
    /// default is trace. Added in Postfix 2.1.
    "trace_service_name" TRACE_SERVICE_NAME: Str = "trace", min 1;
    /// The master.cf service name of the address verification service. The default is
    /// verify. Added in Postfix 2.1.
    "address_verify_service_name" ADDRESS_VERIFY_SERVICE_NAME: Str = "verify", min 1;
    /// How many digits after the decimal point the delay= and delays= fields of delivery
    /// status log lines show (0 to 6). The default is 2. Added in Postfix 2.9.
    "delay_logging_resolution_limit" DELAY_LOGGING_RESOLUTION_LIMIT: Int = "2", min 0, max 6;
    /// Tables that cleanup looks each message header up in (one logical header, folded
    /// lines included), usually regexp: or pcre: patterns whose values are actions such
    /// as REJECT, WARN, HOLD, DISCARD, REPLACE, PREPEND, REDIRECT, FILTER or BCC. Only the
    /// message's own headers; see mime_header_checks and nested_header_checks for the
    /// others. The default is empty.
    "header_checks" HEADER_CHECKS: Str = "";
    /// Tables for MIME headers (Content-*, MIME-Version) and the headers of attachments,
    /// with the actions of header_checks. The default is $header_checks. Added in Postfix
    /// 2.0.
    "mime_header_checks" MIME_HEADER_CHECKS: Str = "$header_checks";
    /// Tables for the headers of attached messages (message/rfc822 parts), with the
    /// actions of header_checks. The default is $header_checks. Added in Postfix 2.0.
    "nested_header_checks" NESTED_HEADER_CHECKS: Str = "$header_checks";
    /// Tables that cleanup looks each body line up in, with the actions of header_checks.
    /// The default is empty.
    "body_checks" BODY_CHECKS: Str = "";
    /// How much of a message body body_checks looks at, in bytes; 0 means all of it. The
    /// default is 51200. Added in Postfix 2.0.
    "body_checks_size_limit" BODY_CHECKS_SIZE_LIMIT: Int = "51200";
    /// Tables that give, for an envelope sender address, an address that receives a
    /// blind carbon copy of the message. The default is empty. Added in Postfix 2.1.
    "sender_bcc_maps" SENDER_BCC_MAPS: Str = "";
    /// Tables that give, for an envelope recipient address, an address that receives a
    /// blind carbon copy of the message. The default is empty. Added in Postfix 2.1.
    "recipient_bcc_maps" RECIPIENT_BCC_MAPS: Str = "";
    /// Whether non-delivery notices go to the plain sender address even when the sender
    /// asked for VERP (one notice per recipient, to a per-recipient address). The default
    /// is no. Added in Postfix 1.1.
    "disable_verp_bounces" DISABLE_VERP_BOUNCES: Bool = "no";
    /// Characters that make cleanup reject a message whose content (headers and body)
    /// contains them, written with C escapes such as \0 and \f. The default is empty.
    /// Added in Postfix 2.3.
    "message_reject_characters" MESSAGE_REJECT_CHARACTERS: Str = "";
    /// Characters that cleanup removes from message content, written with C escapes such
    /// as \0 and \f. The default is empty. Added in Postfix 2.3.
    "message_strip_characters" MESSAGE_STRIP_CHARACTERS: Str = "";
}
