"""A large site folds its groups on the home page and gives each group a page of its own."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timezone

from generator.models import MonitorState, State
from generator.site import build_site
from generator.site.sample import demo_inputs

NOW = datetime(2026, 11, 24, 21, 30, tzinfo=timezone.utc)


def _folded(config, threshold: int):
    return dataclasses.replace(config, site=dataclasses.replace(config.site, collapse_groups_from=threshold))


def test_groups_fold_from_the_threshold_and_each_gets_a_page(tmp_path):
    config, history, incidents, maintenance = demo_inputs(tmp_path, count=8, now=NOW)
    states = history.load_states()
    states["svc-0005"] = MonitorState(monitor_id="svc-0005", status=State.DOWN, since=NOW, last_check=NOW)
    history.save_states(states)
    out = tmp_path / "_site"
    build_site(config, history, incidents, maintenance, out, now=NOW)  # 8 monitors < 200: every bar on the home page
    home = (out / "index.html").read_text()
    assert '<details class="grp">' not in home and home.count('<li class="mon">') == 8
    assert not (out / "groups").exists()

    build_site(_folded(config, 8), history, incidents, maintenance, out, now=NOW)
    home = (out / "index.html").read_text()
    assert '<li class="mon">' not in home  # no bars on the folded home page
    folded = re.findall(r'<details class="grp"><summary><span class="gn">([^<]+)</span>(.*?)</details>', home, re.S)
    # groups in the order of monitors.yaml, the monitors without one last
    assert [name for name, _ in folded] == ["Core", "Edge", "Data", "Other services"]
    edge = dict(folded)["Edge"]  # svc-0001 and svc-0005: the down one makes the group's status and is named
    assert 'class="st st-down"' in edge.split("</summary>")[0]
    assert "1 Down · 1 Operational" in edge
    assert 'href="monitors/svc-0005/index.html"' in edge and "svc-0001/" not in edge
    assert 'href="groups/Edge/index.html">All 2 services in Edge</a>' in edge
    page = (out / "groups" / "Edge" / "index.html").read_text()
    assert page.count('<li class="mon">') == 2 and 'href="../../monitors/svc-0001/index.html"' in page
    assert (out / "groups" / "Other-services" / "index.html").is_file()

    build_site(config, history, incidents, maintenance, out, now=NOW)  # back under the threshold: the pages go
    assert not (out / "groups").exists()
