"""statusgen import: Upptime and Gatus configurations (written from their documented formats) become a
monitors.yaml that statusgen accepts, with what has no equivalent listed by line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from generator.config import validate_file
from generator.importers import IMPORTERS, ImportProblem, convert

DATA = Path(__file__).resolve().parents[1] / "data" / "importers"


def accepted(tmp_path: Path, text: str):
    path = tmp_path / "monitors.yaml"
    path.write_text(text, encoding="utf-8")
    config, problems = validate_file(path)
    assert not problems, "\n".join(map(str, problems)) + "\n" + text
    return config


def by_id(text: str) -> dict:
    return {monitor["id"]: monitor for monitor in yaml.safe_load(text)["monitors"]}


def test_upptime_sites_become_monitors(tmp_path):
    text = convert("upptime", DATA / ".upptimerc.yml")
    config = accepted(tmp_path, text)
    assert [(monitor.id, monitor.type) for monitor in config.monitors] == [
        ("website", "http"), ("public-api", "http"), ("order-webhook", "http"), ("staging", "http"),
        ("database", "tcp"), ("live-feed", "websocket"), ("secret-backend", "http")]
    monitors = by_id(text)
    assert monitors["public-api"]["expect"] == {"status": [200, 204], "degraded_after": "3000ms"}
    assert monitors["order-webhook"]["headers"]["Authorization"] == "Bearer ${ORDERS_TOKEN}"
    assert monitors["order-webhook"]["method"] == "POST"
    assert monitors["staging"]["verify_tls"] is False
    assert monitors["staging"]["expect"] == {"body_contains": "Acme"}
    assert monitors["database"] == {"id": "database", "name": "Database", "type": "tcp", "host": "db.acme.example",
                                    "port": 5432}
    assert monitors["secret-backend"]["url"] == "${BACKEND_URL}"
    site = yaml.safe_load(text)["site"]
    assert site == {"repository": "acme-corp/status", "title": "Acme Status",
                    "description": "Live status of Acme's services", "logo": "https://acme.example/logo.svg",
                    "base_url": "https://status.acme.example/"}


def test_upptime_lists_what_has_no_equivalent_with_lines():
    text = convert("upptime", DATA / ".upptimerc.yml")
    header = text.split("\nsite:")[0]
    assert "#   line 4: user-agent:" in header
    assert "#   line 40: assignees:" in header
    assert "#   line 42: workflowSchedule:" in header
    assert header.index("line 4:") < header.index("line 40:") < header.index("line 49:")  # in file order
    assert "  # line 26: __dangerous__body_degraded: no equivalent\n" in text
    assert "  # line 27: icon: no equivalent\n" in text


def test_gatus_endpoints_become_monitors(tmp_path):
    text = convert("gatus", DATA / "gatus.yaml")
    config = accepted(tmp_path, text)
    assert [(monitor.id, monitor.type) for monitor in config.monitors] == [
        ("core-front-end", "http"), ("core-front-end-certificate", "tls"), ("core-back-end", "http"),
        ("dns", "dns"), ("redis", "tcp"), ("mail", "tls"), ("bastion", "ssh"), ("game-server", "udp"),
        ("feed", "websocket")]
    monitors = by_id(text)
    assert monitors["core-front-end"]["expect"] == {
        "status": 200, "json": [{"path": "status", "equals": "UP"}], "degraded_after": "500ms"}
    assert monitors["core-front-end-certificate"]["down_days"] == 2  # 48h
    back_end = monitors["core-back-end"]
    assert back_end["expect"] == {"status": "100-299",
                                  "json": [{"path": "data.items[0].ok", "equals": True},
                                           {"path": "errors", "exists": False}],
                                  "body_contains": ["healthy"]}
    assert (back_end["verify_tls"], back_end["timeout"]) == (False, "10s")
    assert monitors["dns"]["resolver"] == "8.8.8.8" and monitors["dns"]["expect"] == ["192.0.2.10"]
    assert (monitors["mail"]["starttls"], monitors["mail"]["port"], monitors["mail"]["down_days"]) == ("smtp", 587, 3)
    assert monitors["game-server"]["expect"] == {"contains": ["pong"]} and monitors["game-server"]["send"] == "ping"
    assert monitors["feed"]["expect"] == {"json": [{"path": "result", "equals": "ok"}]}
    assert config.monitor("core-front-end").group == "core"


def test_gatus_lists_what_has_no_equivalent_with_lines():
    text = convert("gatus", DATA / "gatus.yaml")
    assert "#   line 5: storage:" in text and "#   line 8: alerting:" in text
    assert "#   line 75: url icmp://192.0.2.1: icmp checks have no equivalent here; skipped" in text
    assert "#   line 78: endpoints[9] (old-service): disabled, skipped" in text
    assert "  # line 32: condition 'len([BODY].data.items) > 0': no equivalent\n" in text
    assert "  # line 16: interval: no equivalent (the workflow's schedule decides)\n" in text
    assert "  # line 17: [RESPONSE_TIME] < 500: a slower answer is degraded here, not down\n" in text


@pytest.mark.parametrize("kind", sorted(IMPORTERS))
def test_bad_files_are_sentences_not_tracebacks(tmp_path, kind):
    with pytest.raises(ImportProblem, match="file not found"):
        convert(kind, tmp_path / "nope.yml")
    broken = tmp_path / "broken.yml"
    broken.write_text("sites:\n  - name: a\n   url: [\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match=r"broken\.yml:3:\d+: not valid YAML"):
        convert(kind, broken)
    other = tmp_path / "other.yml"
    other.write_text("monitors: []\n", encoding="utf-8")
    with pytest.raises(ImportProblem, match="not an? (Upptime|Gatus) configuration"):
        convert(kind, other)
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ImportProblem, match="not UTF-8"):
        convert(kind, binary)
    with pytest.raises(ImportProblem, match="is a directory"):
        convert(kind, tmp_path)


def test_odd_entries_are_skipped_with_a_note(tmp_path):
    odd = tmp_path / "odd.yml"
    odd.write_text("sites:\n  - just a string\n  - name: no url\n  - name: Same\n    url: https://a.example\n"
                   "  - name: Same\n    url: https://b.example\n", encoding="utf-8")
    text = convert("upptime", odd)
    assert "line 3: sites[1]: no url, skipped" in text
    assert list(by_id(text)) == ["same", "same-2"]
    accepted(tmp_path, text)
    gatus = tmp_path / "gatus.yml"
    gatus.write_text("endpoints:\n  - name: x\n    url: https://x.example\n    conditions:\n"
                     "      - \"[STATUS] == any(200, 301)\"\n      - nonsense\n      - \"[BODY] == pat(a*b)\"\n",
                     encoding="utf-8")
    text = convert("gatus", gatus)
    assert by_id(text)["x"]["expect"]["status"] == [200, 301]
    assert "condition 'nonsense': no equivalent" in text
    accepted(tmp_path, text)


def test_unknown_kind():
    with pytest.raises(ImportProblem, match='cannot import "kuma": choose one of upptime, gatus'):
        convert("kuma", DATA / "gatus.yaml")


def test_the_import_command(capsys, tmp_path):
    from generator.cli import main

    assert main(["import", "gatus", str(DATA / "gatus.yaml")]) == 0
    out = capsys.readouterr().out
    assert out == convert("gatus", DATA / "gatus.yaml")
    assert main(["import", "upptime", str(tmp_path / "nope.yml")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.yml'}: file not found\n"
    assert main(["import", "kuma", str(DATA / "gatus.yaml")]) == 2
    assert "choose one of upptime, gatus" in capsys.readouterr().err
