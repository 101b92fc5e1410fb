//! qshape - the shape of the mail queue: messages per domain and age.
//!
//! Postfix counterpart: `auxiliary/qshape/qshape.pl` (3.7), a Perl script; this is the
//! same program in Rust, with the same options and output. `qshape [-s] [-p] [-m min]
//! [-l] [-b buckets] [-t minutes] [-w width] [-N count] [-n count] [-c config_dir]
//! [queue...]` counts the recipients (`-s`: senders) of every message in the queues
//! (default incoming and active; names relative to queue_directory, or absolute paths)
//! by domain and by age bucket: `[0,t)`, `[t,2t)`, `[2t,4t)`... minutes (`-l`: linear),
//! the last bucket open-ended. `-p` adds parent domains (`.example.com`) that have at
//! least `-m` (5) subdomains shown. The table is as wide as `-w` (80 or more); a domain
//! too long for its column is cut on the left with `+`. On a terminal, the table is
//! redrawn every `-N` (1000) messages with the top `-n` (20) domains.
//!
//! Rows are sorted by count, then by length; where the Perl script leaves equal rows in
//! hash order (which changes from run to run), they come in byte order here.

mod envelope;
mod shape;

use shape::{Options, Shape};

fn usage(me: &str) -> String {
    format!(
        "Usage: {me} [ -s ] [ -p ] [ -m <min_subdomains> ] [ -l ]\n\
         \t[ -b <bucket_count> ] [ -t <bucket_time> ] [ -w <terminal_width> ]\n\
         \t[ -N <batch_msg_count> ] [ -n <batch_top_domains> ]\n\
         \t[ -c <config_directory> ] [ <queue_name> ... ]\n\
         The 's' option shows sender domain counts.\n\
         The 'p' option shows address counts by for parent domains.\n\
         Parent domains are shown with a leading '.' before the domain name.\n\
         Parent domains are only shown if the domain is not a TLD, and at\n\
         least <min_subdomains> (default 5) subdomains are shown in the output.\n\n\
         The bucket age ranges in units of <bucket_time> minutes are\n\
         [0,1), [1,2), [2,4), [4,8), [8, 16), ... i.e.:\n\
         \tthe first bucket is [0, bucket_time) minutes\n\
         \tthe second bucket is [bucket_time, 2*bucket_time) minutes\n\
         \tthe third bucket is [2*bucket_time, 4*bucket_time) minutes...\n\
         '-l' makes the ages linear, the number of buckets shown is <bucket_count>\n\n\
         The default summary is for the incoming and active queues. An explicit\n\
         list of queue names can be given on the command line. Non-absolute queue\n\
         names are interpreted relative to the Postfix queue directory. Use\n\
         <config_directory> to specify a non-default Postfix instance.  Values of\n\
         the main.cf queue_directory parameter that use variable expansions are\n\
         not supported. If necessary, use explicit absolute paths for all queues.\n"
    )
}

/// Perl's numeric value of an option: its leading number, else 0.
fn perl_num(text: &str) -> f64 {
    let text = text.trim_start();
    let mut end = 0;
    let bytes = text.as_bytes();
    if end < bytes.len() && (bytes[end] == b'-' || bytes[end] == b'+') {
        end += 1;
    }
    let mut seen_dot = false;
    while end < bytes.len() && (bytes[end].is_ascii_digit() || (bytes[end] == b'.' && !seen_dot)) {
        seen_dot |= bytes[end] == b'.';
        end += 1;
    }
    text[..end].parse().unwrap_or(0.0)
}

fn main() {
    let me = std::env::args().next().unwrap_or_else(|| "qshape".into());
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Getopt::Std: an unknown option is warned about, then the usage ends the program.
    let (opts, operands) = match util::getopt::parse(&me, "lhc:psw:b:t:m:n:N:", &args) {
        Ok(parsed) => parsed,
        Err(message) => {
            let what = message.rsplit("'").nth(1).unwrap_or("");
            eprintln!("{me}: Unknown option: {what}");
            eprint!("{}", usage(&me));
            std::process::exit(255);
        }
    };
    let mut options = Options::default();
    let get = |letter: char| {
        opts.iter()
            .rev()
            .find(|o| o.letter == letter)
            .map(|o| o.value.clone().unwrap_or_default())
    };
    if get('h').is_some() {
        eprint!("{}", usage(&me));
        std::process::exit(255);
    }
    let mut queues: Vec<String> = if operands.is_empty() {
        vec!["incoming".into(), "active".into()]
    } else {
        operands
    };
    if queues.iter().any(|q| !q.starts_with('/')) {
        if let Some(dir) = get('c') {
            sys::setenv(params::env::CONF_ENV, std::ffi::OsStr::new(&dir));
        }
        let config_dir = params::config::config_directory(None);
        let queue_dir = params::Config::load(&config_dir)
            .ok()
            .and_then(|c| c.str(&params::decl::install::QUEUE_DIRECTORY).ok());
        let Some(queue_dir) = queue_dir else {
            eprintln!("{me}: postconf failed");
            std::process::exit(255);
        };
        if let Err(e) = std::env::set_current_dir(&queue_dir) {
            eprintln!("{me}: chdir({queue_dir}): {}", sys::os_error(&e));
            std::process::exit(2);
        }
    }
    if let Some(w) = get('w').map(|w| perl_num(&w))
        && w > 80.0
    {
        options.width = w as i64;
    }
    if let Some(b) = get('b').map(|b| perl_num(&b))
        && b > 0.0
    {
        options.buckets = b as usize;
    }
    if let Some(t) = get('t').map(|t| perl_num(&t))
        && t > 0.0
    {
        options.tick = t;
    }
    if let Some(m) = get('m').map(|m| perl_num(&m))
        && m > 0.0
    {
        options.min_sub = m as u64;
    }
    options.senders = get('s').is_some();
    options.parents = get('p').is_some();
    options.linear = get('l').is_some();
    let mut cls = Vec::new();
    if sys::isatty(1) {
        options.batch_msg_count = get('N').map_or(1000, |n| perl_num(&n) as u64);
        options.batch_top_domains = get('n').map_or(20, |n| perl_num(&n) as usize);
        cls = std::process::Command::new("clear")
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default();
    }
    options.now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut shape = Shape::new(options, cls, &me);
    for queue in queues.drain(..) {
        shape.find(std::path::Path::new(&queue), &queue, &mut out);
    }
    shape.results(&mut out);
}
