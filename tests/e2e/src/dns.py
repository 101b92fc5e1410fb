# A DNS server for the e2e tests (see dns.rs): UDP on argv[1] port 53, answering from
# a zone given as JSON in argv[2] ({"name": [["A", "127.0.0.2"], ["AAAA", "::1"],
# ["TXT", "text"], ["MX", "10 host"], ["NS", "host"], ["TLSA", "3 1 1 hexdata"],
# ["CNAME", "target"], ["PTR", "host"] (under a d.c.b.a.in-addr.arpa name)],
# ...}: a CNAME is answered with the target's records of the type asked; a name with
# ["SERVFAIL", ""] gets SERVFAIL; a name with ["AD", ""] gets replies with the AD bit,
# as from a validating resolver); names not in it get NXDOMAIN, names with other types
# NODATA. Each query is appended to argv[3] as "name TYPE" (with " DO" when the query
# asked for DNSSEC records). Prints "ready" once listening.
import json
import socket
import struct
import sys

addr, zone, log_path = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
zone = {k.lower().rstrip("."): v for k, v in zone.items()}
TYPES = {1: "A", 5: "CNAME", 16: "TXT", 12: "PTR", 28: "AAAA", 15: "MX", 2: "NS", 52: "TLSA"}


def qname(data, at):
    labels = []
    while data[at]:
        n = data[at]
        labels.append(data[at + 1:at + 1 + n].decode("latin-1"))
        at += n + 1
    return ".".join(labels), at + 1


def encode(host):
    labels = [l for l in host.rstrip(".").split(".") if l]
    return b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"


# The owner of a record that is the question's name: a pointer to it.
OWN_NAME = struct.pack(">H", 0xC00C)


def rr(owner, rtype, value):
    """One answer record, or None for a SERVFAIL directive."""
    if rtype == "A":
        rdata, code = socket.inet_aton(value), 1
    elif rtype == "AAAA":
        rdata, code = socket.inet_pton(socket.AF_INET6, value), 28
    elif rtype == "MX":
        pref, host = value.split(" ", 1)
        rdata, code = struct.pack(">H", int(pref)) + encode(host), 15
    elif rtype == "NS":
        rdata, code = encode(value), 2
    elif rtype == "CNAME":
        rdata, code = encode(value), 5
    elif rtype == "PTR":
        rdata, code = encode(value), 12
    elif rtype == "TLSA":
        usage, selector, mtype, hexdata = value.split(" ")
        rdata = bytes([int(usage), int(selector), int(mtype)]) + bytes.fromhex(hexdata)
        code = 52
    elif rtype == "SERVFAIL":
        return None
    else:
        # Any other type is answered as TXT text.
        raw = value.encode("latin-1")
        rdata, code = bytes([len(raw)]) + raw, 16
    return owner + struct.pack(">HHIH", code, 1, 60, len(rdata)) + rdata


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((addr, 53))
print("ready", flush=True)
while True:
    data, peer = sock.recvfrom(4096)
    if len(data) < 12:
        continue
    ident, flags = struct.unpack(">HH", data[:4])
    name, end = qname(data, 12)
    qtype, qclass = struct.unpack(">HH", data[end:end + 4])
    question = data[12:end + 4]
    tname = TYPES.get(qtype, str(qtype))
    # The DO bit: in the TTL field of an OPT record after the question.
    dnssec_ok = False
    arcount = struct.unpack(">H", data[10:12])[0]
    if arcount and len(data) >= end + 4 + 11 and data[end + 4] == 0:
        otype, _, ttl = struct.unpack(">HHI", data[end + 5:end + 13])
        dnssec_ok = otype == 41 and bool(ttl & 0x8000)
    with open(log_path, "a") as log:
        log.write("%s %s%s\n" % (name, tname, " DO" if dnssec_ok else ""))
    records = zone.get(name.lower())
    answers = []
    secure = bool(records) and any(r[0] == "AD" for r in records)
    if records is not None:
        answers = [rr(OWN_NAME, rtype, value) for rtype, value in records if rtype == tname]
        # A CNAME, and the records of its target, as a recursive server answers.
        alias = [value for rtype, value in records if rtype == "CNAME"]
        if alias and tname != "CNAME":
            target = zone.get(alias[0].lower().rstrip("."), [])
            secure = secure and any(r[0] == "AD" for r in target)
            answers = [rr(OWN_NAME, "CNAME", alias[0])] + [
                rr(encode(alias[0]), rtype, value) for rtype, value in target if rtype == tname]
        answers = [a for a in answers if a]
    rcode = 3 if records is None else 0
    if records and records[0][0] == "SERVFAIL":
        rcode = 2
    rd = flags & 0x0100
    ad = 0x0020 if secure else 0
    header = struct.pack(">HHHHHH", ident, 0x8000 | 0x0400 | rd | 0x0080 | ad | rcode, 1,
                         len(answers), 0, 0)
    sock.sendto(header + question + b"".join(answers), peer)
