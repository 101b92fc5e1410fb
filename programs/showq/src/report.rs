//! One queue file's entry in the listing.
//!
//! Postfix counterpart: `showq_report()` and `showq_reasons()` in `showq/showq.c`.
//! Addresses go out quoted as RFC 5321 wants (`quote_822_local`), the null address as
//! `empty_address_recipient`, and with every unprintable byte as `?`.

use global::mail_queue::{DEFER, Layout};
use global::queue_read::{self, Got, RecStream, atol, c_str, printable};
use global::record::rec_type;
use std::collections::HashSet;
use std::io::{BufReader, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;

/// The group execute bit: the queue file is to be expired (`postsuper -e`/`-f`).
const STAT_EXPIRE: u32 = 0o010;

/// What showq needs from main.cf.
pub struct Settings {
    /// `empty_address_recipient`: how the null sender is shown.
    pub empty_address: String,
    /// `duplicate_filter_limit`: how many defer log recipients are remembered.
    pub dup_filter_limit: usize,
    /// `smtputf8_enable`: UTF-8 is printable.
    pub utf8: bool,
    /// Where queue files are.
    pub layout: Layout,
}

/// Sends attributes without the list terminator (Postfix's `ATTR_FLAG_MORE`).
pub fn put_attrs(out: &mut impl Write, attrs: &[(&str, &[u8])]) -> std::io::Result<()> {
    for (name, value) in attrs {
        if log::verbose() > 0 {
            log::msg_info!("send attr {name} = {}", String::from_utf8_lossy(value));
        }
        out.write_all(name.as_bytes())?;
        out.write_all(b"\0")?;
        out.write_all(value)?;
        out.write_all(b"\0")?;
    }
    Ok(())
}

/// Sends the list terminator.
pub fn put_end(out: &mut impl Write) -> std::io::Result<()> {
    out.write_all(b"\0")
}

/// The address as listed: quoted, the null address replaced, unprintable bytes masked.
fn shown_address(settings: &Settings, raw: &[u8]) -> String {
    let raw = if raw.is_empty() {
        settings.empty_address.as_bytes()
    } else {
        raw
    };
    let mut quoted = Vec::new();
    rfc822::quote::quote_822_local_bytes(&mut quoted, raw, rfc822::quote::QuoteFlags::DEFAULT);
    printable(&quoted, settings.utf8)
}

/// Sends the entry of queue file `id` in `queue`: sender, then recipients. A file
/// without a sender sends nothing; nothing is sent after a second sender.
pub fn showq_report(
    settings: &Settings,
    out: &mut impl Write,
    queue: &str,
    id: &str,
    file: std::fs::File,
    meta: &std::fs::Metadata,
) -> std::io::Result<()> {
    let mut rs = RecStream::new(BufReader::new(file), &format!("{queue}/{id}"));
    let mut buf = Vec::new();
    let mut arrival_time: i64 = 0;
    let mut msg_size = meta.size() as i64;
    let mut msg_size_ok = false;
    let mut sender_seen = 0;
    let mut last_address = String::new();
    // The defer log's recipients, not to be listed again from the queue file.
    let mut dup_filter: Option<HashSet<String>> = None;

    while let Got::Rec(kind) = rs.get_raw(&mut buf, 0, queue_read::DEFAULT) {
        if log::verbose() > 0 {
            log::msg_info!(
                "record {} {}",
                char::from(kind),
                printable(c_str(&buf), settings.utf8)
            );
        }
        match kind {
            rec_type::TIME if arrival_time == 0 => arrival_time = atol(&buf),
            rec_type::SIZE if !msg_size_ok => {
                let text = c_str(&buf);
                msg_size_ok = text.iter().all(|b| b.is_ascii_digit() || *b == b' ') && {
                    msg_size = atol(text);
                    msg_size >= 0
                };
                if !msg_size_ok {
                    let shown: String = printable(text, settings.utf8).chars().take(100).collect();
                    log::msg_warn!(
                        "{id}: malformed size record: {shown} -- using file size instead"
                    );
                    msg_size = meta.size() as i64;
                }
            }
            rec_type::FROM => {
                last_address = shown_address(settings, c_str(&buf));
                sender_seen += 1;
                if sender_seen > 1 {
                    log::msg_warn!(
                        "{id}: duplicate sender address: {last_address} -- skipping remainder of this file"
                    );
                    break;
                }
                let time = if arrival_time > 0 {
                    arrival_time
                } else {
                    meta.mtime()
                };
                let expire = u8::from(meta.mode() & STAT_EXPIRE != 0).to_string();
                put_attrs(
                    out,
                    &[
                        ("queue_name", queue.as_bytes()),
                        ("queue_id", id.as_bytes()),
                        ("time", time.to_string().as_bytes()),
                        ("size", msg_size.to_string().as_bytes()),
                        ("forced_expire", expire.as_bytes()),
                        ("sender", last_address.as_bytes()),
                    ],
                )?;
                // The defer log's recipients and reasons come first.
                let path = settings.layout.path(DEFER, id);
                if let Ok(log) = std::fs::File::open(&path) {
                    let mut seen = HashSet::new();
                    for entry in crate::defer_log::read(
                        BufReader::new(log),
                        &format!("{DEFER}/{id}"),
                        settings.utf8,
                    ) {
                        if settings.dup_filter_limit == 0 || seen.len() < settings.dup_filter_limit
                        {
                            seen.insert(entry.address.clone());
                        }
                        put_attrs(
                            out,
                            &[
                                ("recipient", entry.address.as_bytes()),
                                ("reason", entry.reason.as_bytes()),
                            ],
                        )?;
                    }
                    dup_filter = Some(seen);
                }
            }
            rec_type::RCPT => {
                if sender_seen == 0 {
                    log::msg_warn!(
                        "{id}: missing sender address: {last_address} -- skipping remainder of this file"
                    );
                    break;
                }
                last_address = shown_address(settings, c_str(&buf));
                if dup_filter
                    .as_ref()
                    .is_none_or(|seen| !seen.contains(&last_address))
                {
                    put_attrs(
                        out,
                        &[("recipient", last_address.as_bytes()), ("reason", b"")],
                    )?;
                }
            }
            rec_type::MESG => {
                // The content holds no envelope records: jump to the extracted segment.
                if msg_size_ok && let Err(e) = rs.seek(SeekFrom::Current(msg_size)) {
                    log::msg_fatal!("seek file {}: {}", rs.path, sys::os_error(&e));
                }
            }
            _ => {}
        }
    }
    if sender_seen > 0 {
        put_end(out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_lists_have_no_terminator() {
        let mut out = Vec::new();
        put_attrs(&mut out, &[("a", b"1"), ("b", b"")]).unwrap();
        put_end(&mut out).unwrap();
        assert_eq!(out, b"a\x001\x00b\x00\x00\x00");
    }

    /// The fields of a report, `name=value` a field, `|` for a terminator.
    fn fields(bytes: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        // Every field ends with a NUL: what follows the last one is no field.
        let mut all: Vec<&[u8]> = bytes.split(|&b| b == 0).collect();
        all.pop();
        let mut parts = all.into_iter();
        while let Some(name) = parts.next() {
            if name.is_empty() {
                out.push("|".to_string());
                continue;
            }
            let value = parts.next().unwrap_or_default();
            out.push(format!(
                "{}={}",
                String::from_utf8_lossy(name),
                String::from_utf8_lossy(value)
            ));
        }
        out
    }

    fn report(records: &[(u8, &[u8])], defer_log: Option<&str>) -> Vec<String> {
        use global::record::rec_put;
        let dir = std::env::temp_dir().join(format!(
            "ironpost-showq-{}-{}",
            std::process::id(),
            records.len() + defer_log.map_or(0, str::len)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("deferred")).unwrap();
        std::fs::create_dir_all(dir.join("defer")).unwrap();
        let settings = Settings {
            empty_address: "MAILER-DAEMON".into(),
            dup_filter_limit: 1000,
            utf8: true,
            layout: Layout {
                base: dir.clone(),
                hash_queue_names: vec![],
                hash_queue_depth: 1,
                long_queue_ids: false,
            },
        };
        let mut file = Vec::new();
        for (kind, data) in records {
            rec_put(&mut file, *kind, data).unwrap();
        }
        let path = dir.join("deferred/ABCDE123");
        std::fs::write(&path, file).unwrap();
        if let Some(log) = defer_log {
            std::fs::write(dir.join("defer/ABCDE123"), log).unwrap();
        }
        let meta = std::fs::metadata(&path).unwrap();
        let mut out = Vec::new();
        let f = std::fs::File::open(&path).unwrap();
        showq_report(&settings, &mut out, "deferred", "ABCDE123", f, &meta).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        fields(&out)
    }

    #[test]
    fn defer_log_recipients_first_then_the_others() {
        let got = report(
            &[
                (b'C', b"              0              60 2 0 0"),
                (b'T', b"1770000000 1"),
                (b'S', b""),
                (b'R', b"a@example.com"),
                (b'R', b"b c@example.com"),
                (b'E', b""),
            ],
            Some("recipient=a@example.com\nreason=no route\n\n"),
        );
        assert_eq!(
            got,
            [
                "queue_name=deferred",
                "queue_id=ABCDE123",
                "time=1770000000",
                "size=0",
                "forced_expire=0",
                "sender=MAILER-DAEMON",
                "recipient=a@example.com",
                "reason=no route",
                "recipient=\"b c\"@example.com",
                "reason=",
                "|",
            ]
        );
    }

    #[test]
    fn broken_files_end_their_report() {
        // A recipient before the sender: nothing at all.
        let got = report(&[(b'T', b"5"), (b'R', b"a@b"), (b'S', b"s@b")], None);
        assert!(got.is_empty(), "{got:?}");
        // A second sender: what came before, terminated.
        let got = report(
            &[
                (b'T', b"5"),
                (b'S', b"s@b"),
                (b'R', b"a@b"),
                (b'S', b"t@b"),
                (b'R', b"c@b"),
            ],
            None,
        );
        assert_eq!(got.last().map(String::as_str), Some("|"));
        assert!(got.contains(&"recipient=a@b".to_string()));
        assert!(!got.contains(&"recipient=c@b".to_string()));
    }
}
