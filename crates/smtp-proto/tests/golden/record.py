#!/usr/bin/env python3
"""record.py - record the SMTP server replies of the REAL Postfix for the golden cases.

Usage: record.py [CASE...]        (run as root; with no CASE, every NAME.in here)

Requirements: Debian's "postfix" package (Postfix 3.7; the goldens were recorded with
3.7.11, Debian 3.7.11-0+deb12u1). The script builds a private Postfix instance in a
scratch directory (nothing of the system's Postfix is touched), with one smtpd service
on 127.0.0.1 per distinct case configuration, and stops and removes it at the end.

Case files (NAME = the case name):

  NAME.in   what the client sends. Each line is sent followed by CRLF, after these
            escapes are decoded: \\r \\n \\0 \\\\ \\xHH (a byte), \\{N:TEXT} (TEXT repeated N
            times); a line ending in \\c is sent without the CRLF. A line that is just \\W
            splits the input: everything before it is sent in one write, then the script
            waits for the replies (no more for 1 s) before sending on. The first write waits
            for the greeting. The input should end in QUIT or in something that ends the
            session.
  NAME.cf   optional: main.cf settings for this case, "name = value" per line, on top of
            BASE_MAIN_CF below.
  NAME.ref  written here: what the server sent, CRLF as LF, with every queue id replaced
            by QUEUEID.
  NAME.log  written here: what smtpd logged for the session (the text after
            "postfix/smtpd[PID]: "), queue ids replaced by QUEUEID.

crates/smtp-proto/tests/golden.rs reads the same files (the escapes, the \\W splits and
BASE_MAIN_CF's values are mirrored there).
"""
import os, re, shutil, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_PORT = 23600

BASE_MAIN_CF = """\
compatibility_level = 3.6
myhostname = golden.example
mydomain = example
smtpd_banner = $myhostname ESMTP
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
alias_maps =
alias_database =
default_transport = discard:golden
local_transport = discard:golden
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_forbid_bare_newline_exclusions =
smtpd_error_sleep_time = 0
"""

SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def decode(line):
    """One .in line as bytes, and whether CRLF follows it."""
    out, i, crlf = bytearray(), 0, True
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            n = line[i + 1]
            simple = {'r': b'\r', 'n': b'\n', '0': b'\0', '\\': b'\\'}
            if n in simple:
                out += simple[n]; i += 2; continue
            if n == 'c' and i + 2 == len(line):
                crlf = False; i += 2; continue
            if n == 'x':
                out.append(int(line[i + 2:i + 4], 16)); i += 4; continue
            if n == '{':
                end = line.index('}', i)
                count, text = line[i + 2:end].split(':', 1)
                out += text.encode() * int(count); i = end + 1; continue
        out += c.encode('utf-8'); i += 1
    return bytes(out), crlf


def segments(text):
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    segs = [bytearray()]
    for line in lines:
        if line == '\\W':
            segs.append(bytearray()); continue
        data, crlf = decode(line)
        segs[-1] += data + (b'\r\n' if crlf else b'')
    return [bytes(s) for s in segs]


def read_quiet(sock, quiet):
    """What arrives until nothing more for `quiet` seconds, and whether the peer closed."""
    data = b''
    sock.settimeout(quiet)
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def run_case(port, text):
    sock = socket.create_connection(('127.0.0.1', port))
    out, closed = read_quiet(sock, 1.0)
    segs = segments(text)
    for i, seg in enumerate(segs):
        if closed:
            break
        try:
            sock.sendall(seg)
        except OSError:
            break
        more, closed = read_quiet(sock, 1.0 if i + 1 < len(segs) else 30)
        out += more
    sock.close()
    return out


def normalize(reply):
    text = reply.decode('latin-1').replace('\r\n', '\n')
    return re.sub(r'queued as [0-9A-Za-z]+', 'queued as QUEUEID', text)


def session_log(maillog, start):
    """smtpd's log lines after offset `start`, up to its "disconnect from" line."""
    for _ in range(100):
        with open(maillog, 'rb') as f:
            f.seek(start)
            lines = f.read().decode('latin-1').splitlines()
        smtpd = [re.sub(r'^.*? postfix/smtpd\[\d+\]: ', '', l) for l in lines if ' postfix/smtpd[' in l]
        if any(l.startswith('disconnect from ') for l in smtpd):
            break
        time.sleep(0.1)
    smtpd = [re.sub(r'^((?:warning|error|fatal): )?[0-9A-F]{6,}:', r'\1QUEUEID:', l) for l in smtpd]
    return ''.join(l + '\n' for l in smtpd)


def settings(name, here=HERE):
    """The case's main.cf settings (NAME.cf), as a key for its smtpd service."""
    path = os.path.join(here, name + '.cf')
    if not os.path.exists(path):
        return ()
    with open(path) as f:
        return tuple(l.strip() for l in f if l.strip() and not l.startswith('#'))


def new_instance_dir(prefix):
    """A scratch directory for a private instance: conf, queue, data (postfix's), log."""
    top = tempfile.mkdtemp(prefix=prefix)
    os.chmod(top, 0o755)
    for d in ('conf', 'queue', 'data', 'log'):
        os.mkdir(os.path.join(top, d))
    shutil.chown(os.path.join(top, 'data'), 'postfix')
    return top


def start_instance(top, port_of, main_cf, services):
    """Writes main.cf (main_cf plus the instance's directories) and master.cf (one smtpd
    per configuration in port_of, then services), starts Postfix and waits for every
    port; returns the postfix command for stop_instance."""
    conf = os.path.join(top, 'conf')
    with open(os.path.join(conf, 'main.cf'), 'w') as f:
        f.write(main_cf)
        f.write(f'queue_directory = {top}/queue\ndata_directory = {top}/data\n')
        f.write(f'maillog_file = {top}/log/maillog\nmaillog_file_prefixes = {top}\n')
    with open(os.path.join(conf, 'master.cf'), 'w') as f:
        for cfg, port in port_of.items():
            opts = ''.join(' -o { ' + s + ' }' for s in cfg)
            f.write(f'127.0.0.1:{port} inet n - n - - smtpd{opts}\n')
        f.write(services)
    postfix = ['/usr/sbin/postfix', '-c', conf]
    subprocess.run(postfix + ['start'], check=True)
    for port in port_of.values():
        for _ in range(100):
            try:
                socket.create_connection(('127.0.0.1', port)).close(); break
            except OSError:
                time.sleep(0.1)
    return postfix


def stop_instance(top, postfix):
    """Stops the instance and removes its directory (kept when KEEP is set)."""
    subprocess.run(postfix + ['stop'])
    time.sleep(1)
    if os.environ.get('KEEP'):
        print('instance kept in', top)
    else:
        shutil.rmtree(top, ignore_errors=True)


def main(cases):
    if not cases:
        cases = sorted(f[:-3] for f in os.listdir(HERE) if f.endswith('.in'))
    configs = sorted({settings(c) for c in cases})
    port_of = {cfg: BASE_PORT + i for i, cfg in enumerate(configs)}
    top = new_instance_dir('smtp-proto-golden-')
    postfix = None
    try:
        postfix = start_instance(top, port_of, BASE_MAIN_CF, SERVICES)
        maillog = os.path.join(top, 'log', 'maillog')
        for case in cases:
            with open(os.path.join(HERE, case + '.in'), encoding='utf-8') as f:
                text = f.read()
            start = os.path.getsize(maillog)
            reply = normalize(run_case(port_of[settings(case)], text))
            with open(os.path.join(HERE, case + '.ref'), 'w', encoding='latin-1') as f:
                f.write(reply)
            with open(os.path.join(HERE, case + '.log'), 'w', encoding='latin-1') as f:
                f.write(session_log(maillog, start))
            print(f'{case}: {reply.count(chr(10))} lines')
    finally:
        if postfix:
            stop_instance(top, postfix)
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1:])
