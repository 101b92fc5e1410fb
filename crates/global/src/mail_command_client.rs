//! One request to a status service, on a connection of its own.
//!
//! Postfix counterpart: `global/mail_command_client.c`. The service announces its
//! protocol, the client sends one attribute list, the service answers `status`. This is
//! for services where backing off after the first error is fine (bounce, defer, trace,
//! flush): each failure is logged with the stage that failed, as Postfix logs it, and
//! the caller gets -1.

use ipc::{Attrs, Flavor, mail_attr};
use std::io::{BufReader, Write};
use std::time::Duration;

/// The status the service answered, or -1 after a logged failure.
pub fn mail_command_client(
    class: &str,
    name: &str,
    proto: &str,
    request: &Attrs,
    ipc_timeout: Duration,
) -> i32 {
    let path = format!("{class}/{name}");
    let stream = match crate::mail_connect::connect(class, name, ipc_timeout) {
        Ok(stream) => stream,
        Err(e) => {
            log::msg_warn!("connect to {path}: {}", sys::os_error(&e));
            return -1;
        }
    };
    let mut reader = BufReader::new(&stream);
    let announced = ipc::attr::read(&mut reader, Flavor::Null);
    if !matches!(&announced, Ok(Some(a)) if a.get_str(mail_attr::PROTO) == Ok(proto)) {
        log::msg_warn!("read {path}: {}", why(announced.err()));
        return -1;
    }
    let mut writer = &stream;
    if let Err(e) =
        ipc::attr::write(&mut writer, Flavor::Null, request).and_then(|()| writer.flush())
    {
        log::msg_warn!("write {path}: {}", sys::os_error(&e));
        return -1;
    }
    match ipc::attr::read(&mut reader, Flavor::Null) {
        Ok(Some(reply)) if reply.len() == 1 => match reply.get_int(mail_attr::STATUS) {
            Some(status) => status,
            None => {
                log::msg_warn!("write/read {path}: {}", why(None));
                -1
            }
        },
        other => {
            log::msg_warn!("write/read {path}: {}", why(other.err()));
            -1
        }
    }
}

/// The error text of a failed exchange (Postfix's `%m`: "Success" when the peer only
/// said something unexpected).
fn why(error: Option<std::io::Error>) -> String {
    error.map_or_else(|| "Success".to_string(), |e| sys::os_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A service at `dir/name` that announces `proto`, reads one request and answers
    /// `status`; the request it read (None when the client gave up) comes back through
    /// the join handle.
    fn service(
        dir: &std::path::Path,
        name: &str,
        proto: &'static str,
        status: i32,
    ) -> std::thread::JoinHandle<Option<Attrs>> {
        let listener = UnixListener::bind(dir.join(name)).unwrap();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().ok()?;
            let mut writer = &stream;
            let hello = Attrs::new().str(mail_attr::PROTO, proto);
            ipc::attr::write(&mut writer, Flavor::Null, &hello).ok()?;
            let request = ipc::attr::read(&mut BufReader::new(&stream), Flavor::Null).ok()??;
            let reply = Attrs::new().int(mail_attr::STATUS, status);
            ipc::attr::write(&mut writer, Flavor::Null, &reply).ok()?;
            Some(request)
        })
    }

    #[test]
    fn status_and_failures() {
        let dir = crate::scratch_dir("mail-command-client");
        let proto = "delivery_status_protocol";
        let ok = service(&dir, "ok", proto, 3);
        let wrong = service(&dir, "wrong", "other_protocol", 0);
        // An absolute class directory stands for the queue directory's private/.
        let class = dir.to_str().unwrap();
        let request = Attrs::new().int("nrequest", 0);
        let timeout = Duration::from_secs(5);
        assert_eq!(
            mail_command_client(class, "ok", proto, &request, timeout),
            3
        );
        assert_eq!(
            mail_command_client(class, "wrong", proto, &request, timeout),
            -1
        );
        assert_eq!(
            mail_command_client(class, "none", proto, &request, timeout),
            -1
        );
        assert_eq!(ok.join().unwrap().unwrap().get_int("nrequest"), Some(0));
        assert!(wrong.join().unwrap().is_none());
    }
}
