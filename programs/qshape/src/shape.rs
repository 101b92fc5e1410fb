//! The counts and the table.
//!
//! Postfix counterpart: `wanted()`, `bucket()`, `pdomain()` and `results()` in
//! `auxiliary/qshape/qshape.pl`. A domain is what follows the last `@`, lower-cased
//! (ASCII), with `..` collapsed and one leading and one trailing dot dropped; the null
//! address counts as `MAILER-DAEMON`. With `-p`, each domain also counts for its parents
//! down to the second level (`.b.c` for `a.b.c`), and a parent's subdomain count grows
//! when one of its children is seen for the first time. The TOTAL row is a row like the
//! others.

use crate::envelope::{self, Envelope};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The options that shape the table.
#[derive(Debug, Clone)]
pub struct Options {
    pub senders: bool,
    pub parents: bool,
    pub linear: bool,
    pub buckets: usize,
    pub tick: f64,
    pub width: i64,
    pub min_sub: u64,
    pub batch_msg_count: u64,
    pub batch_top_domains: usize,
    pub now: i64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            senders: false,
            parents: false,
            linear: false,
            buckets: 10,
            tick: 5.0,
            width: 80,
            min_sub: 5,
            batch_msg_count: 0,
            batch_top_domains: 0,
            now: 0,
        }
    }
}

/// The smallest width of the domain column.
const DWIDTH: i64 = 18;

pub struct Shape {
    o: Options,
    /// The program name in Perl's warnings (`$0`).
    me: String,
    cls: Vec<u8>,
    q: HashMap<Vec<u8>, Vec<u64>>,
    sub: HashMap<Vec<u8>, u64>,
    msgs: u64,
}

/// A number as Perl prints it: integers without a fraction.
fn perl_str(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// The domain of `addr` as qshape counts it.
pub fn domain(addr: &[u8]) -> Vec<u8> {
    let lower = addr.to_ascii_lowercase();
    let mut a = if lower.is_empty() {
        b"MAILER-DAEMON".to_vec()
    } else {
        lower
    };
    if let Some(at) = a.iter().rposition(|&b| b == b'@') {
        a.drain(..=at);
    }
    // s/\.\././g: each ".." becomes "."; "..." becomes "..".
    let mut collapsed = Vec::with_capacity(a.len());
    let mut i = 0;
    while i < a.len() {
        if a[i] == b'.' && a.get(i + 1) == Some(&b'.') {
            collapsed.push(b'.');
            i += 2;
        } else {
            collapsed.push(a[i]);
            i += 1;
        }
    }
    let mut a = collapsed;
    // s/\.?(.+?)\.?$/$1/: one leading and one trailing dot, keeping at least one byte.
    if a.len() >= 2 && a[0] == b'.' {
        a.remove(0);
    }
    if a.len() >= 2 && a.last() == Some(&b'.') {
        a.pop();
    }
    a
}

/// The parent of a domain for `-p`, if it has one below the top level:
/// s/^(?:\.)?[^.]+\.(.*\.)/.$1/.
fn parent(a: &[u8]) -> Option<Vec<u8>> {
    let start = usize::from(a.first() == Some(&b'.'));
    let label_end = start + a[start..].iter().position(|&b| b == b'.')?;
    if label_end == start {
        return None;
    }
    let rest = &a[label_end + 1..];
    // (.*\.) is greedy: up to the last dot of the rest.
    let last_dot = rest.iter().rposition(|&b| b == b'.')?;
    let mut out = vec![b'.'];
    out.extend_from_slice(&rest[..=last_dot]);
    out.extend_from_slice(&rest[last_dot + 1..]);
    Some(out)
}

impl Shape {
    pub fn new(o: Options, cls: Vec<u8>, me: &str) -> Shape {
        Shape {
            o,
            me: me.to_string(),
            cls,
            q: HashMap::new(),
            sub: HashMap::new(),
            msgs: 0,
        }
    }

    /// The age bucket of a message that arrived at `qt`.
    fn bucket(&self, qt: i64) -> usize {
        let m = (self.o.now - qt) as f64 / (60.0 * self.o.tick);
        if m < 1.0 {
            return 1;
        }
        let b = if self.o.linear {
            (m + 1.0) as usize
        } else {
            2 + (m.ln() / 2f64.ln()) as usize
        };
        b.min(self.o.buckets)
    }

    fn count(&mut self, key: &[u8], b: usize) -> bool {
        let n = self.o.buckets + 1;
        let row = self.q.entry(key.to_vec()).or_insert_with(|| vec![0; n]);
        if row.len() < n {
            row.resize(n, 0);
        }
        row[0] += 1;
        row[b.min(n - 1)] += 1;
        row[0] > 1
    }

    fn wanted(&mut self, env: Envelope, out: &mut impl Write) {
        // The script's warnings for a message without a time or a sender, from its line
        // numbers, so that the two programs print the same.
        let time = env.time.unwrap_or_else(|| {
            eprintln!(
                "Use of uninitialized value $qt in subtraction (-) at {} line 282.",
                self.me
            );
            0
        });
        let b = self.bucket(time);
        let addrs = if self.o.senders {
            vec![env.sender.unwrap_or_else(|| {
                eprintln!(
                    "Use of uninitialized value $_ in lc at {} line 294.",
                    self.me
                );
                Vec::new()
            })]
        } else {
            env.recipients
        };
        for addr in addrs {
            self.count(b"TOTAL", b);
            let mut a = domain(&addr);
            let mut new = false;
            loop {
                let old = self.count(&a, b);
                if new {
                    *self.sub.entry(a.clone()).or_insert(0) += 1;
                }
                new = !old;
                if !self.o.parents {
                    break;
                }
                match parent(&a) {
                    Some(p) => a = p,
                    None => break,
                }
            }
        }
        self.msgs += 1;
        if self.o.batch_msg_count > 0 && self.msgs.is_multiple_of(self.o.batch_msg_count) {
            self.results(out);
        }
    }

    /// Visits `path` and everything under it, as File::Find does (directories first
    /// seen, then their entries; symbolic links not followed).
    pub fn find(&mut self, path: &Path, name: &str, out: &mut impl Write) {
        if let Some(env) = envelope::qenv(path, name) {
            self.wanted(env, out);
        }
        let Ok(meta) = std::fs::symlink_metadata(path) else {
            return;
        };
        if !meta.is_dir() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(path) else {
            return;
        };
        for entry in entries.flatten() {
            let child = entry.file_name().to_string_lossy().into_owned();
            self.find(&path.join(&child), &child, out);
        }
    }

    fn pdomain(&self, out: &mut impl Write, d: &[u8], cells: &[String], widths: &[usize], dw: i64) {
        let len = d.len() as i64;
        if len > dw {
            if d.first() == Some(&b'.') {
                let _ = out.write_all(b".+");
                let _ = out.write_all(&d[(len - dw + 2).max(0) as usize..]);
            } else {
                let _ = out.write_all(b"+");
                let _ = out.write_all(&d[(len - dw + 1).max(0) as usize..]);
            }
        } else {
            let _ = out.write_all(" ".repeat((dw - len) as usize).as_bytes());
            let _ = out.write_all(d);
        }
        for (cell, width) in cells.iter().zip(widths) {
            let _ = write!(out, "{cell:>width$}");
        }
        let _ = out.write_all(b"\n");
    }

    /// Prints the table.
    pub fn results(&mut self, out: &mut impl Write) {
        let n = self.o.buckets + 1;
        let total = self
            .q
            .entry(b"TOTAL".to_vec())
            .or_insert_with(|| vec![0; n])
            .clone();
        let mut heads = Vec::with_capacity(n);
        let mut widths = Vec::with_capacity(n);
        let mut dw = self.o.width;
        let mut t = 0.0f64;
        let mut t_text = String::new();
        for i in 0..n {
            let mut l = total.get(i).copied().unwrap_or(0).to_string().len();
            let h = if i == 0 {
                "T".to_string()
            } else if t_text.is_empty() {
                perl_str(t)
            } else {
                t_text.clone()
            };
            if h.len() >= l {
                l = h.len();
            }
            let l = if l > 2 { l + 1 } else { 3 };
            heads.push(h);
            widths.push(l);
            dw -= l as i64;
            if i + 1 < self.o.buckets {
                t += if t != 0.0 && !self.o.linear {
                    t
                } else {
                    self.o.tick
                };
            } else {
                t_text = format!("{}+", perl_str(t));
            }
        }
        let dw = dw.max(DWIDTH);
        if self.o.batch_msg_count > 0 {
            let _ = out.write_all(&self.cls);
        }
        self.pdomain(out, b"", &heads, &widths, dw);
        let mut keys: Vec<&Vec<u8>> = self.q.keys().collect();
        keys.sort_by(|a, b| {
            self.q[*b][0]
                .cmp(&self.q[*a][0])
                .then(a.len().cmp(&b.len()))
                .then(a.cmp(b))
        });
        let mut shown = 0;
        for d in keys {
            if d.first() == Some(&b'.') && self.sub.get(d).copied().unwrap_or(0) < self.o.min_sub {
                continue;
            }
            shown += 1;
            if self.o.batch_top_domains > 0 && shown > self.o.batch_top_domains {
                break;
            }
            let cells: Vec<String> = (0..n)
                .map(|i| self.q[d].get(i).copied().unwrap_or(0).to_string())
                .collect();
            self.pdomain(out, d, &cells, &widths, dw);
        }
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_as_the_script_cuts_them() {
        assert_eq!(domain(b"User@Example.COM."), b"example.com");
        assert_eq!(domain(b""), b"MAILER-DAEMON");
        assert_eq!(domain(b"a@b@c..d"), b"c.d");
        assert_eq!(domain(b"x@."), b".");
        assert_eq!(domain(b"x@.a"), b"a");
        assert_eq!(parent(b"a.b.c").as_deref(), Some(&b".b.c"[..]));
        assert_eq!(parent(b".b.c"), None);
        assert_eq!(parent(b"x.a.b.c").as_deref(), Some(&b".a.b.c"[..]));
        assert_eq!(parent(b".a.b.c").as_deref(), Some(&b".b.c"[..]));
    }

    #[test]
    fn table_layout() {
        let mut shape = Shape::new(
            Options {
                now: 10_000,
                ..Options::default()
            },
            Vec::new(),
            "qshape",
        );
        let env = |t: i64, rcpts: &[&str]| Envelope {
            time: Some(t),
            sender: Some(b"s@x.org".to_vec()),
            recipients: rcpts.iter().map(|r| r.as_bytes().to_vec()).collect(),
        };
        let mut sink = Vec::new();
        shape.wanted(env(10_000, &["a@example.com", "b@example.com"]), &mut sink);
        shape.wanted(env(10_000 - 3600, &["c@other.net"]), &mut sink);
        let mut out = Vec::new();
        shape.results(&mut out);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        // 80 columns: the eleven count columns take 41, the domain column the rest.
        let dw = 80 - 41;
        assert_eq!(
            lines[0],
            format!("{:dw$}  T  5 10 20 40 80 160 320 640 1280 1280+", "")
        );
        // An hour is in [40, 80) minutes.
        assert_eq!(
            lines[1],
            format!("{:>dw$}  3  2  0  0  0  1   0   0   0    0     0", "TOTAL")
        );
        assert_eq!(
            lines[2],
            format!(
                "{:>dw$}  2  2  0  0  0  0   0   0   0    0     0",
                "example.com"
            )
        );
        assert_eq!(lines.len(), 4);
    }
}
