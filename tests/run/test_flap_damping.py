"""Issue 12, item 7: a service flapping for 20 runs keeps one incident and sends at most 2 notifications.

The engine ticks against a loopback service that alternates between 503 and 200, with a real Apprise
``json://`` receiver on loopback counting what arrives, and the files tracker keeping the incident.
"""

from __future__ import annotations

import json
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.run.test_engine import front_matter, incidents, open_engine
from tests.support.switch import switchable_service


class Receiver:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                outer.messages.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0)))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/notify"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_twenty_flaps_send_at_most_two_notifications_and_a_flap_that_stays_down_is_told(tmp_path: Path) -> None:
    receiver = Receiver()
    try:
        with switchable_service() as service:
            (tmp_path / "monitors.yaml").write_text(textwrap.dedent(f"""\
                monitors:
                  - id: shop
                    name: Shop
                    url: {service.url}
                    timeout: 2s
                    retries: 0
                    notify: {receiver.url}
                """))
            with open_engine(tmp_path) as engine:
                [shop] = engine.config.monitors
                kinds = []
                for _ in range(20):  # 20 flaps: down, then up again, within the flap window
                    for mode in ("error", "up"):
                        service.mode = mode
                        kinds += [t.kind.value for t in engine.tick([shop]).transitions]
                assert kinds.count("reopened") == 19 and kinds.count("resolved") == 20
                titles = [m["title"] for m in receiver.messages]
                assert len(titles) <= 2, titles
                assert titles == ["[critical] Shop is down", "[resolved] Shop is back up"]
                [incident] = incidents(tmp_path, "shop")  # one incident, reopened 19 times
                assert front_matter(incident)["status"] == "resolved"

                # it goes down once more and stays down: the held reopening goes out at the next check
                service.mode = "error"
                engine.tick([shop])
                assert len(receiver.messages) == 2
                engine.tick([shop])
                assert len(receiver.messages) == 3
                last = receiver.messages[-1]
                assert last["title"] == "[critical] Shop is down again (flapping)", last
                assert "21 times since" in last["message"]
                engine.tick([shop])
                assert len(receiver.messages) == 3  # once
    finally:
        receiver.close()
