"""Plugin output and performance data read per the Monitoring Plugins guidelines."""

from __future__ import annotations

from generator.probes.perfdata import latency_ms, parse_output, parse_perfdata


def test_first_line_long_text_and_perfdata_on_both():
    output = parse_output("DISK OK - free space: / 3326 MB | /=2643MB;5948;5958;0;5968\n"
                          "/ 15272 MB (77%);\n/boot 68 MB (69%); | /boot=68MB;88;93;0;98\n/home=69357MB;253404;253409;0;253414\n")
    assert output.message == "DISK OK - free space: / 3326 MB"
    assert output.long_text == "/ 15272 MB (77%);\n/boot 68 MB (69%);"
    assert list(output.perfdata) == ["/", "/boot", "/home"]
    assert output.perfdata["/home"] == {"value": 69357.0, "unit": "MB", "warn": "253404", "crit": "253409",
                                        "min": 0.0, "max": 253414.0}


def test_quoted_labels_ranges_and_unknown_values():
    found = parse_perfdata("'free space'=12.5%;@10:20;~:5 'it''s'=3 load=U;1;2 bad=x1 =7 rta=0.8ms")
    assert found == {
        "free space": {"value": 12.5, "unit": "%", "warn": "@10:20", "crit": "~:5"},
        "it's": {"value": 3.0},
        "load": {"value": None, "warn": "1", "crit": "2"},
        "rta": {"value": 0.8, "unit": "ms"},
    }


def test_time_is_the_latency_in_its_unit_else_wall_time():
    assert latency_ms(parse_perfdata("time=0.25s"), 900.0) == 250.0
    assert latency_ms(parse_perfdata("time=12ms"), 900.0) == 12.0
    assert latency_ms(parse_perfdata("time=1.5"), 900.0) == 1500.0
    assert latency_ms(parse_perfdata("time=U"), 900.0) == 900.0
    assert latency_ms(parse_perfdata("time=3B"), 900.0) == 900.0
    assert latency_ms({}, 900.0) == 900.0


def test_no_output_and_no_perfdata():
    assert parse_output("") == parse_output("\n")
    assert parse_output("OK").perfdata == {}
