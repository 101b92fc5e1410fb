//! A UNIX socket in front of an auth socket that records every line both ways and
//! applies `tests/golden/record.py`'s rules, so that smtpd's side sees the same server
//! behaviours the goldens were recorded with:
//!
//! - AUTH PLAIN for user `tempfail` → `FAIL <id> user=tempfail temp`
//! - AUTH PLAIN for user `reason` → `FAIL <id> user=reason reason=Account^Alocked`
//! - AUTH PLAIN for user `nouser` → `OK <id>`; for user `noreply` → `CONT <id>`
//! - a CONT whose data is `ZGll` ("die") → both connections closed.

use std::io::{BufRead, BufReader, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A running proxy.
pub struct Proxy {
    path: PathBuf,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    /// Listens on `path` and forwards to `upstream`.
    pub fn start(path: &Path, upstream: &Path) -> Proxy {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).expect("proxy socket");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let upstream = upstream.to_path_buf();
        let record = lines.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = UnixStream::connect(&upstream) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let r2 = record.clone();
                std::thread::spawn(move || downstream(server, c2, r2));
                let r3 = record.clone();
                std::thread::spawn(move || upstream_loop(client, s2, r3));
            }
        });
        Proxy {
            path: path.to_path_buf(),
            lines,
        }
    }

    /// The socket smtpd is pointed at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lines recorded since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lines.lock().unwrap())
    }
}

fn push(record: &Mutex<Vec<String>>, line: String) {
    record.lock().unwrap().push(line);
}

fn downstream(server: UnixStream, mut client: UnixStream, record: Arc<Mutex<Vec<String>>>) {
    for line in BufReader::new(server).split(b'\n').map_while(Result::ok) {
        push(&record, format!("< {}", String::from_utf8_lossy(&line)));
        let mut bytes = line;
        bytes.push(b'\n');
        if client.write_all(&bytes).is_err() {
            return;
        }
    }
}

fn upstream_loop(client: UnixStream, mut server: UnixStream, record: Arc<Mutex<Vec<String>>>) {
    let mut writer = client.try_clone().unwrap();
    for line in BufReader::new(client).split(b'\n').map_while(Result::ok) {
        let text = String::from_utf8_lossy(&line).into_owned();
        push(&record, format!("> {text}"));
        match rule(&text) {
            Some(Answer::Close) => {
                let _ = writer.shutdown(Shutdown::Both);
                let _ = server.shutdown(Shutdown::Both);
                return;
            }
            Some(Answer::Line(answer)) => {
                push(&record, format!("< {answer}"));
                let _ = writer.write_all(format!("{answer}\n").as_bytes());
            }
            None => {
                let mut bytes = line;
                bytes.push(b'\n');
                if server.write_all(&bytes).is_err() {
                    return;
                }
            }
        }
    }
}

enum Answer {
    Close,
    Line(String),
}

/// record.py's `rule()`.
fn rule(line: &str) -> Option<Answer> {
    let f: Vec<&str> = line.split('\t').collect();
    if f[0] == "CONT" && f.get(2) == Some(&"ZGll") {
        return Some(Answer::Close);
    }
    if f[0] != "AUTH" || !f.get(2)?.eq_ignore_ascii_case("PLAIN") {
        return None;
    }
    let resp = f.iter().find_map(|x| x.strip_prefix("resp="))?;
    let decoded = super::unb64(resp)?;
    let user = decoded.split(|&b| b == 0).nth(1)?;
    let id = f[1];
    let answer = match user {
        b"tempfail" => format!("FAIL\t{id}\tuser=tempfail\ttemp"),
        b"reason" => format!("FAIL\t{id}\tuser=reason\treason=Account\x01locked"),
        b"nouser" => format!("OK\t{id}"),
        b"noreply" => format!("CONT\t{id}"),
        _ => return None,
    };
    Some(Answer::Line(answer))
}
