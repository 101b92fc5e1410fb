# Load for the durability tests: COUNT messages over SMTP from THREADS concurrent clients,
# message I to the I-th of the comma-separated RECIPIENTS in turn (user@vmail.e2e.test
# when not given),
# each message with a unique marker in its Subject, Message-Id and body, retried (with the
# same marker) until the server says 250 after DATA or ATTEMPTS attempts (default 6, 0.2 s
# apart) run out. Prints one line per
# message: "ack MARKER ATTEMPTS" when a 250 was seen, "lost MARKER ATTEMPTS LAST-ERROR"
# when not. A message that was queued but whose 250 the client never saw is retried, so
# it may be delivered twice: that is allowed (at least once), and the test counts it.
#
#   python3 load.py PORT COUNT THREADS LINES [ATTEMPTS [PREFIX [RECIPIENTS]]]
import smtplib
import sys
import threading
import time

port, count, threads, lines = (int(a) for a in sys.argv[1:5])
ATTEMPTS = int(sys.argv[5]) if len(sys.argv) > 5 else 6
PREFIX = sys.argv[6] if len(sys.argv) > 6 else "t33m"
RECIPIENTS = (sys.argv[7] if len(sys.argv) > 7 else "user@vmail.e2e.test").split(",")
out_lock = threading.Lock()
next_index = [0]


def message(marker, attempt, rcpt):
    head = (
        "From: <load@e2e.test>\r\n"
        "To: <%s>\r\n"
        "Subject: %s\r\n"
        "Message-Id: <%s.%d@e2e.test>\r\n"
        "\r\n" % (rcpt, marker, marker, attempt)
    )
    # A body of many lines keeps cleanup writing long enough for a kill to land mid-file;
    # the last line says the body is whole.
    body = "".join("%s line %05d %s\r\n" % (marker, i, "x" * 60) for i in range(lines))
    return head + body + "END %s\r\n" % marker


def send(marker, rcpt):
    error = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            s = smtplib.SMTP("127.0.0.1", port, timeout=20)
        except Exception as e:
            error = "connect: %r" % e
            time.sleep(0.2)
            continue
        try:
            s.sendmail("load@e2e.test", [rcpt], message(marker, attempt, rcpt))
        except Exception as e:
            error = repr(e)
            try:
                s.close()
            except Exception:
                pass
            time.sleep(0.2)
            continue
        # sendmail returned: the reply to the end of DATA was 250. What QUIT does no
        # longer matters.
        try:
            s.quit()
        except Exception:
            pass
        return "ack %s %d" % (marker, attempt)
    return "lost %s %d %s" % (marker, ATTEMPTS, error.replace("\n", " "))


def worker():
    while True:
        with out_lock:
            i = next_index[0]
            next_index[0] += 1
        if i >= count:
            return
        line = send("%s%05d" % (PREFIX, i), RECIPIENTS[i % len(RECIPIENTS)])
        with out_lock:
            print(line, flush=True)


pool = [threading.Thread(target=worker) for _ in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
