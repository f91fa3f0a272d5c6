#!/usr/bin/env python3
"""A real SMTP server for the people tests: Debian's python3-aiosmtpd.

Usage: smtp_aiosmtpd.py PORTFILE OUTFILE [CERT KEY]

Listens on 127.0.0.1 on a port the kernel picks (written to PORTFILE once
it accepts), and appends one JSON line per message to OUTFILE: the
envelope (MAIL FROM, RCPT TO, MAIL options such as BODY=8BITMIME), the
headers as Python's email package decodes them (RFC 2047 encoded-words,
quoted-printable), and what it found wrong with the raw message:
encoded-words over 75 characters, header lines over 78, 8-bit bytes in a
message whose MAIL FROM did not announce BODY=8BITMIME.  With CERT and
KEY it offers STARTTLS with that certificate and refuses mail without it
(a relay with a private CA); each record says whether TLS was on.  Runs
until killed (SIGTERM)."""
import asyncio
import email
import email.policy
import json
import re
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP

ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=")


def problems(raw, mail_options):
    out = []
    head, _, body = raw.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if len(line) > 78:
            out.append("header line over 78: %r" % line[:90])
        for w in ENCODED_WORD.findall(line):
            if len(w) > 75:
                out.append("encoded-word over 75: %r" % w)
    eight_bit = any(b > 0x7F for b in raw)
    if eight_bit and "BODY=8BITMIME" not in [o.upper() for o in mail_options]:
        out.append("8-bit data without BODY=8BITMIME")
    return out


class Handler:
    def __init__(self, path):
        self.path = path

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        try:
            body = msg.get_content()
        except Exception as e:  # a body Python cannot decode is a failure too
            body = "<undecodable: %s>" % e
        rec = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "subject": str(msg.get("Subject", "")),
            "to": str(msg.get("To", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "transfer_encoding": str(msg.get("Content-Transfer-Encoding", "")),
            "body": body,
            "problems": problems(raw, envelope.mail_options),
            "tls": session.ssl is not None,
        }
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        return "250 OK queued"


async def main(portfile, outfile, cert=None, key=None):
    loop = asyncio.get_running_loop()
    handler = Handler(outfile)
    tls = None
    if cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
    srv = await loop.create_server(
        lambda: SMTP(handler, decode_data=False, tls_context=tls,
                     require_starttls=tls is not None),
        "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    import os
    os.rename(portfile + ".tmp", portfile)
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    await stop
    srv.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
