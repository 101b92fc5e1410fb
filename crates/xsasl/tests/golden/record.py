#!/usr/bin/env python3
"""record.py - record what the REAL Postfix smtpd does with smtpd_sasl_type = dovecot.

Usage: record.py [CASE...]        (run as root; with no CASE, every NAME.in here)

Requirements: Debian's "postfix" (3.7; recorded with 3.7.11-0+deb12u1) and "dovecot-core"
(2.3.19.1) packages. The script starts a private Dovecot (../support/dovecot.conf, auth
only) and a private Postfix instance in a scratch directory (nothing of the system's
Postfix or Dovecot is touched), with one smtpd service on 127.0.0.1 per distinct case
configuration. smtpd_sasl_path points at a recording proxy in front of Dovecot's socket,
which also stands in for server behaviours a real Dovecot will not show on demand
(the same rules as ../support/proxy.rs):

  AUTH PLAIN for user "tempfail"  -> FAIL <id> user=tempfail temp
  AUTH PLAIN for user "reason"    -> FAIL <id> user=reason reason=Account<^A>locked
  AUTH PLAIN for user "nouser"    -> OK <id>                  (no user= field)
  AUTH PLAIN for user "noreply"   -> CONT <id>                (no challenge field)
  CONT whose data is "die" (ZGll) -> both connections closed (the server went away)

Case files (NAME = the case name):

  NAME.in       client lines, each sent with CRLF after the previous reply is complete;
                after STARTTLS's 220 the session goes on under TLS.
  NAME.cf       optional main.cf settings for the case ("name = value" per line).
  NAME.ref      written: the server's replies, CRLF as LF.
  NAME.log      written: smtpd's log lines for the session (after "postfix/smtpd[PID]: "),
                queue ids replaced by QUEUEID.
  NAME.dovecot  written: what smtpd sent to the auth server during the session ("> "
                lines) and what it got ("< "), request ids renumbered from 1 per case;
                "> (handshake)" where smtpd connected (once per smtpd process, and again
                after a lost connection); the last handshake's lines are in
                handshake.dovecot.

tests/golden.rs reads the same files.
"""
import base64, importlib.util, os, re, ssl, shutil, socket, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORT = os.path.join(HERE, '..', 'support')
BASE_PORT = 23900  # smtp-proto records on 23600+, crates/tls on 23700+

# The private instance is smtp-proto's golden instance (its record.py: base main.cf, the
# service list, the maillog reading), with SASL on.
_spec = importlib.util.spec_from_file_location(
    'smtp_proto_record', os.path.join(HERE, '..', '..', '..', 'smtp-proto', 'tests', 'golden', 'record.py'))
smtp_proto_record = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(smtp_proto_record)
SERVICES = smtp_proto_record.SERVICES + """\
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
"""
session_log = smtp_proto_record.session_log
BASE_MAIN_CF = smtp_proto_record.BASE_MAIN_CF + """\
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
"""


class Proxy:
    """A UNIX socket in front of Dovecot's that records lines and applies the rules."""

    def __init__(self, path, upstream):
        self.path, self.upstream = path, upstream
        self.lines, self.lock = [], threading.Lock()
        self.listener = socket.socket(socket.AF_UNIX)
        self.listener.bind(path)
        os.chmod(path, 0o666)
        self.listener.listen(16)
        threading.Thread(target=self.accept, daemon=True).start()

    def record(self, line):
        with self.lock:
            self.lines.append(line)

    def take(self):
        with self.lock:
            lines, self.lines = self.lines, []
        return lines

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.upstream)
            threading.Thread(target=self.downstream, args=(server, client), daemon=True).start()
            threading.Thread(target=self.upstream_loop, args=(client, server), daemon=True).start()

    def downstream(self, server, client):
        for line in server.makefile('rb'):
            self.record('< ' + line.decode('latin-1').rstrip('\n'))
            try:
                client.sendall(line)
            except OSError:
                return

    def upstream_loop(self, client, server):
        for raw in client.makefile('rb'):
            line = raw.decode('latin-1').rstrip('\n')
            self.record('> ' + line)
            answer = rule(line)
            if answer == 'close':
                for s in (client, server):
                    s.shutdown(socket.SHUT_RDWR); s.close()
                return
            if answer is not None:
                self.record('< ' + answer)
                client.sendall(answer.encode('latin-1') + b'\n')
                continue
            server.sendall(raw)


def rule(line):
    """The stand-in answer for a request line, 'close', or None (forward it)."""
    f = line.split('\t')
    if f[0] == 'CONT' and len(f) > 2 and f[2] == 'ZGll':
        return 'close'
    if f[0] != 'AUTH' or f[2].upper() != 'PLAIN':
        return None
    resp = [x[5:] for x in f if x.startswith('resp=')]
    try:
        user = base64.b64decode(resp[0]).split(b'\0')[1].decode() if resp else ''
    except Exception:
        return None
    return {
        'tempfail': f'FAIL\t{f[1]}\tuser=tempfail\ttemp',
        'reason': f'FAIL\t{f[1]}\tuser=reason\treason=Account\x01locked',
        'nouser': f'OK\t{f[1]}',
        'noreply': f'CONT\t{f[1]}',
    }.get(user)


def start_dovecot(top):
    d = os.path.join(top, 'dovecot')
    for sub in ('', 'run', 'state'):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    with open(os.path.join(SUPPORT, 'dovecot.conf')) as f:
        conf = f.read().replace('@DIR@', d)
    with open(os.path.join(d, 'dovecot.conf'), 'w') as f:
        f.write(conf)
    shutil.copy(os.path.join(SUPPORT, 'passwd'), os.path.join(d, 'passwd'))
    proc = subprocess.Popen(['dovecot', '-F', '-c', os.path.join(d, 'dovecot.conf')])
    for _ in range(100):
        if os.path.exists(os.path.join(d, 'auth')):
            break
        time.sleep(0.1)
    return proc, os.path.join(d, 'auth')


def read_reply(f):
    """One complete reply (all its lines), or what came before the connection closed."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            return lines
        lines.append(line.decode('latin-1').rstrip('\r\n'))
        if re.match(r'^\d{3}( |$)', lines[-1]):
            return lines


def run_case(port, text):
    sock = socket.create_connection(('127.0.0.1', port))
    sock.settimeout(30)
    f = sock.makefile('rb')
    out = read_reply(f)
    for line in text.splitlines():
        try:
            sock.sendall(line.encode() + b'\r\n')
        except OSError:
            break
        reply = read_reply(f)
        out += reply
        if not reply:
            break
        if line.upper() == 'STARTTLS' and reply[-1].startswith('220'):
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            tls.check_hostname = False
            tls.verify_mode = ssl.CERT_NONE
            sock = tls.wrap_socket(sock)
            f = sock.makefile('rb')
    sock.close()
    return ''.join(l + '\n' for l in out)


def renumber(lines):
    """Request ids from 1 in order of appearance. A handshake becomes one "> (handshake)"
    line where smtpd sent VERSION (the two directions of a handshake interleave at
    random); its lines, with the process id and Dovecot's ids as X, are returned apart."""
    ids, out, handshake = {}, [], []
    for l in lines:
        f = l[2:].split('\t')
        if f[0] in ('VERSION', 'CPID', 'MECH', 'SPID', 'CUID', 'COOKIE', 'DONE'):
            if f[0] in ('CPID', 'SPID', 'CUID', 'COOKIE'):
                l = l[:2] + f[0] + '\tX'
            handshake.append(l)
            if l.startswith('> VERSION'):
                out.append('> (handshake)')
            continue
        if f[0] in ('AUTH', 'CONT', 'OK', 'FAIL') and len(f) > 1:
            f[1] = str(ids.setdefault(f[1], len(ids) + 1))
            l = l[:2] + '\t'.join(f)
        out.append(l)
    return out, handshake


def settings(name):
    return smtp_proto_record.settings(name, HERE)


def main(cases):
    if not cases:
        cases = sorted(f[:-3] for f in os.listdir(HERE) if f.endswith('.in'))
    configs = sorted({settings(c) for c in cases})
    port_of = {cfg: BASE_PORT + i for i, cfg in enumerate(configs)}
    top = smtp_proto_record.new_instance_dir('xsasl-golden-')
    dovecot, upstream = start_dovecot(top)
    proxy = Proxy(os.path.join(top, 'auth-proxy'), upstream)
    postfix = None
    try:
        main_cf = BASE_MAIN_CF + f'smtpd_sasl_path = {proxy.path}\n'
        postfix = smtp_proto_record.start_instance(top, port_of, main_cf, SERVICES)
        time.sleep(1)
        maillog = os.path.join(top, 'log', 'maillog')
        for case in cases:
            with open(os.path.join(HERE, case + '.in'), encoding='utf-8') as f:
                text = f.read()
            start = os.path.getsize(maillog)
            proxy.take()
            reply = run_case(port_of[settings(case)], text)
            log = session_log(maillog, start)
            wire, handshake = renumber(proxy.take())
            for name, content in (('.ref', reply), ('.log', log), ('.dovecot', ''.join(l + '\n' for l in wire))):
                with open(os.path.join(HERE, case + name), 'w', encoding='latin-1') as f:
                    f.write(content)
            if handshake:
                # What smtpd sends first, then what Dovecot sends.
                handshake.sort(key=lambda l: not l.startswith('>'))
                with open(os.path.join(HERE, 'handshake.dovecot'), 'w', encoding='latin-1') as f:
                    f.write(''.join(l + '\n' for l in handshake))
            print(f'{case}: {reply.count(chr(10))} reply lines, {len(wire)} auth lines')
    finally:
        dovecot.terminate()
        dovecot.wait()
        if postfix:
            smtp_proto_record.stop_instance(top, postfix)
        else:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1:])
