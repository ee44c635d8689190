"""What the integration tests watch a run through: a local SMTP server catching the
failure e-mails, the environment that points KCBX's alerts at it, and the logs a run
leaves under its home."""

from __future__ import annotations

import json
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from tests.conftest import _free_port


class Mailbox:
    """A local SMTP server (aiosmtpd) keeping every message it receives, as received
    (`messages`) and decoded to its subject and text parts (`texts`)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        self.texts: list[str] = []
        outer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.content)
                outer.messages.append(message)
                outer.texts.append(_decoded(message))
                return "250 OK"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def _decoded(message: Message) -> str:
    parts = [str(make_header(decode_header(message["Subject"] or "")))]
    parts += [
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8", "replace")
        for part in message.walk()
        if not part.is_multipart()
    ]
    return "\n".join(parts)


def alert_env(mailbox: Mailbox) -> dict[str, str]:
    """KCBX's failure e-mails to the mailbox (SMTP connection kcbx_smtp)."""
    return {
        "KCBX_ALERT_EMAIL": "county-data-team@example.org",
        "AIRFLOW_CONN_KCBX_SMTP": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": mailbox.port,
                "extra": {"from_email": "kcbx@example.org", "disable_tls": True, "disable_ssl": True},
            }
        ),
    }


def log_files(home: Path) -> dict[str, str]:
    """Every log under KCBX_HOME: Airflow's task logs, dbt's log and run results, the
    embedded server's log. Reports, ledgers and the data itself are not logs."""
    found = {}
    for path in sorted(home.rglob("*")):
        parts = path.relative_to(home).parts
        if not path.is_file() or (parts[0] in ("reports", "pgdata") and path.name != "log"):
            continue
        if "logs" in parts or path.suffix == ".log" or path.name in ("log", "run_results.json"):
            found[str(path.relative_to(home))] = path.read_bytes().decode("utf-8", "replace")
    return found
