//! Saved SMTP session transcripts: an ironpost extension, not in Postfix.
//!
//! Postfix has no counterpart: its debug_peer_list raises the verbose logging of a peer,
//! and a network sniffer sees nothing after STARTTLS. These parameters make smtpd and the
//! SMTP client save the decrypted dialogue of chosen peers in files of their own
//! (crates/global/src/transcript.rs).

crate::params! {
    /// Remote SMTP clients whose sessions with the SMTP server are saved as transcripts in
    /// transcript_directory (an ironpost extension). Same syntax as debug_peer_list: client host
    /// names, addresses, network/prefix patterns, /file/name or type:table entries; empty (the
    /// default) saves nothing.
    "smtpd_transcript_peer_list" SMTPD_TRANSCRIPT_PEER_LIST: Str = "";
    /// Remote SMTP servers (host names or addresses, network/prefix patterns, /file/name or
    /// type:table entries, as in debug_peer_list) whose sessions with the SMTP and LMTP client are
    /// saved as transcripts in transcript_directory (an ironpost extension); empty (the default)
    /// saves nothing.
    "smtp_transcript_peer_list" SMTP_TRANSCRIPT_PEER_LIST: Str = "";
    /// Directory of saved session transcripts (an ironpost extension): one file per session,
    /// mode 0600, owned by the mail_owner account. Under queue_directory (the default) it is
    /// reachable from chrooted daemons; the daemon creates it when a peer list is set.
    "transcript_directory" TRANSCRIPT_DIRECTORY: Str = "$queue_directory/transcript";
    /// How much of the message content a saved transcript keeps (an ironpost extension):
    /// headers (the default) keeps the header lines and counts the body lines and bytes, full
    /// keeps everything, none counts the lines and bytes only. SASL credentials are never kept.
    "transcript_content" TRANSCRIPT_CONTENT: Str = "headers";
    /// The most transcript files kept in transcript_directory (an ironpost extension): before a
    /// new one is started, the oldest beyond this number are removed. Default 1000.
    "transcript_maxfiles" TRANSCRIPT_MAXFILES: Int = "1000", min 1;
    /// Transcript files older than this are removed when a new one is started (an ironpost
    /// extension); 0 keeps them regardless of age. Default 7d.
    "transcript_max_age" TRANSCRIPT_MAX_AGE: Time(b'd') = "7d";
    /// The largest size in bytes of one transcript file (an ironpost extension); what a session
    /// says past it is counted, not kept. Default 1048576.
    "transcript_size_limit" TRANSCRIPT_SIZE_LIMIT: Long = "1048576", min 1024;
}
