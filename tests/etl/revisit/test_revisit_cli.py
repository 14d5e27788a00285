"""`news-etl revisit` as an operator meets it: a bad source name, a source with revisits
off, a files source (no URL to ask again), the JSON summary."""

from __future__ import annotations

import json
from pathlib import Path

from support.operator import clear_environment

from etl.cli import main


def test_revisit_command_line(monkeypatch, tmp_path: Path, capsys) -> None:
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "sources:\n"
        "- {name: quiet, kind: urls, urls: ['http://127.0.0.1:9/a'], revisit: []}\n"
        "- {name: desk, kind: files, location: desk/*.html}\n"
        "- {name: wire, kind: urls, urls: ['http://127.0.0.1:9/b'], revisit: [2h, 1d]}\n")
    warehouse = ["--warehouse", f"sqlite:///{tmp_path / 'wh.db'}"]
    assert main(["revisit", str(sources), *warehouse, "--source", "nope"]) == 2
    assert "unknown source" in capsys.readouterr().err

    assert main(["revisit", str(sources), *warehouse, "--all", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "quiet: not revisited (revisit: [])" in err
    assert "desk: not revisited (kind files)" in err
    summary = json.loads(out)
    # Nothing stored yet: nothing to revisit, and no empty run records.
    assert summary["sources"] == [] and summary["run_id"].startswith("revisit__")
    assert main(["revisit", str(sources), *warehouse]) == 0
    assert "nothing due for a revisit" in capsys.readouterr().out

    assert main(["sources", str(sources)]) == 0
    listed = capsys.readouterr().out
    assert "revisit=off" in listed and "revisit=2h,1d" in listed

    sources.write_text("sources:\n- {name: bad, kind: urls, urls: [x], revisit: [1h, 1h]}\n")
    assert main(["revisit", str(sources), *warehouse]) == 2
    assert "field 'revisit': delays must grow" in capsys.readouterr().err
