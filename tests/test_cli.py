"""The ``stack-auth`` command line against the emulator: export, import (re-runnable), teams, sessions, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack_auth import cli
from stack_auth.testing import Emulator


@pytest.fixture
def env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The emulator over loopback, its credentials in the STACK_* variables."""
    with emulator.serve() as base_url:
        monkeypatch.setenv("STACK_PROJECT_ID", emulator.project_id)
        monkeypatch.setenv("STACK_SECRET_SERVER_KEY", emulator.secret_server_key)
        monkeypatch.setenv("STACK_API_URL", base_url)
        yield base_url


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_export_jsonl_streams_every_page(env: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(7):
        emulator.create_user(primary_email=f"u{i}@example.com", server_metadata={"n": i})
    assert cli.main(["users", "export", "--page-size", "3"]) == 0
    out, err = capsys.readouterr()
    users = [json.loads(line) for line in out.splitlines()]
    assert sorted(u["primary_email"] for u in users) == [f"u{i}@example.com" for i in range(7)]
    assert all(isinstance(u["signed_up_at_millis"], int) and "id" in u for u in users)
    assert "exported 7 users" in err
    assert emulator.stats.count("GET /users") == 3  # 3 + 3 + 1


def test_export_csv_to_a_file(env: str, emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_user(primary_email="a@example.com", display_name="A, with comma", client_metadata={"x": [1]})
    target = tmp_path / "users.csv"
    assert cli.main(["users", "export", "-o", str(target)]) == 0
    with target.open(newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["primary_email"] == "a@example.com"
    assert row["display_name"] == "A, with comma"
    assert json.loads(row["client_metadata"]) == {"x": [1]}
    assert row["primary_email_verified"] == "false"


def test_import_then_rerun_creates_nothing_new(
    env: str, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows: list[object] = [{"primary_email": f"u{i}@example.com", "display_name": f"U{i}"} for i in range(120)]
    source = write_jsonl(tmp_path / "users.jsonl", rows)
    assert cli.main(["users", "import", str(source), "--concurrency", "8"]) == 0
    assert "created 120, skipped 0" in capsys.readouterr().err
    assert emulator.user_count() == 120
    assert all(u["primary_email_auth_enabled"] for u in emulator.users())

    assert cli.main(["users", "import", str(source)]) == 0
    assert "created 0, skipped 120 (already there), failed 0" in capsys.readouterr().err
    assert emulator.user_count() == 120
    assert sorted(emulator.emails()) == sorted(f"u{i}@example.com" for i in range(120))


def test_import_reports_failed_rows_and_keeps_the_rest(
    env: str, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "users.jsonl"
    source.write_text(
        '{"primary_email": "ok1@example.com"}\n'
        "not json\n"
        "\n"
        '{"display_name": "no email"}\n'
        '{"primary_email": "not-an-email"}\n'
        '{"primary_email": "ok2@example.com", "emial": "typo"}\n'
    )
    failures = tmp_path / "failed.jsonl"
    assert cli.main(["users", "import", str(source), "--failures", str(failures)]) == 1
    err = capsys.readouterr().err
    assert "line 2: not JSON" in err
    assert "line 4: no primary_email" in err
    assert "line 5: not-an-email: SCHEMA_ERROR:" in err
    assert "ignoring unknown field 'emial' (line 6)" in err
    assert "created 2, skipped 0 (already there), failed 3" in err
    assert sorted(emulator.emails()) == ["ok1@example.com", "ok2@example.com"]
    reported = [json.loads(line) for line in failures.read_text().splitlines()]
    assert [r["line"] for r in reported] == [2, 4, 5]
    assert reported[2]["row"] == {"primary_email": "not-an-email"}


def test_csv_round_trip_between_projects(env: str, emulator: Emulator, tmp_path: Path) -> None:
    emulator.create_user(primary_email="a@example.com", display_name="A", server_metadata={"plan": "pro"})
    emulator.create_user(primary_email="b@example.com", primary_email_verified=True)
    exported = tmp_path / "users.csv"
    assert cli.main(["users", "export", "-o", str(exported)]) == 0

    other = Emulator()
    with other.serve() as base_url:
        args = ["--api-url", base_url, "--secret-server-key", other.secret_server_key, "--project-id", other.project_id]
        assert cli.main([*args, "users", "import", str(exported)]) == 0
    users = {u["primary_email"]: u for u in other.users()}
    assert users["a@example.com"]["display_name"] == "A"
    assert users["a@example.com"]["server_metadata"] == {"plan": "pro"}
    assert users["b@example.com"]["primary_email_verified"] is True


def test_a_wrong_key_stops_the_import_with_one_line(
    env: str, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STACK_SECRET_SERVER_KEY", "wrong-key")
    source = write_jsonl(tmp_path / "u.jsonl", [{"primary_email": f"u{i}@example.com"} for i in range(50)])
    assert cli.main(["users", "import", str(source)]) == 1
    err = capsys.readouterr().err
    [line] = err.strip().splitlines()
    assert line.startswith("stack-auth: error: ")
    assert "INVALID_SECRET_SERVER_KEY" in line
    assert "wrong-key" not in err
    assert emulator.user_count() == 0


def test_teams_list(env: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    user = emulator.create_user(primary_email="a@example.com", display_name="Ada")
    team = emulator.create_team("Engines")
    emulator.add_team_member(team["id"], user["id"])
    emulator.create_team("Others")
    assert cli.main(["teams", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["ID", "NAME", "CREATED"]
    assert sorted(line.split("  ")[1].strip() for line in out[1:]) == ["Ada's Team", "Engines", "Others"]
    assert cli.main(["teams", "list", "--user-id", user["id"], "--format", "jsonl"]) == 0
    names = sorted(json.loads(line)["display_name"] for line in capsys.readouterr().out.splitlines())
    assert names == ["Ada's Team", "Engines"]


def test_sessions_revoke_all(env: str, emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    user_id = emulator.create_user(primary_email="a@example.com")["id"]
    other_id = emulator.create_user(primary_email="b@example.com")["id"]
    for _ in range(3):
        emulator.create_session(user_id)
    emulator.create_session(other_id)
    assert cli.main(["sessions", "revoke-all", user_id]) == 0
    assert f"revoked 3 of 3 sessions of user {user_id}" in capsys.readouterr().out
    assert emulator.sessions(user_id) == []
    assert len(emulator.sessions(other_id)) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required: COMMAND"),
        (["users"], "required: ACTION"),
        (["users", "import"], "required: file"),
        (["users", "import", "x.jsonl", "--concurrency", "0"], "must be at least 1"),
        (["sessions", "revoke-all", "not-a-uuid"], "user_id must be a UUID"),
        (["users", "frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(env: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_credentials_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("STACK_PROJECT_ID", raising=False)
    assert cli.main(["teams", "list"]) == 2
    assert "set STACK_PROJECT_ID or pass --project-id" in capsys.readouterr().err


def test_missing_file_is_one_line(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["users", "import", str(tmp_path / "missing.jsonl")]) == 1
    assert capsys.readouterr().err.strip().startswith("stack-auth: error: No such file or directory")


def test_embedded_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--emulator", "users", "export"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 3
    assert "embedded emulator" in err


def test_demo_is_dispatched_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr("stack_auth._demo.main", lambda: calls.append(1) or 0)
    assert cli.main(["demo"]) == 0
    assert calls == [1]


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stack_auth", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.startswith("stack-auth ")
    help_text = subprocess.run(
        [sys.executable, "-m", "stack_auth", "--help"], capture_output=True, text=True, check=False
    )
    assert help_text.returncode == 0
    assert "users" in help_text.stdout


def test_progress_without_tqdm_is_a_usage_error(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "has_tqdm", lambda: False)
    source = write_jsonl(tmp_path / "u.jsonl", [{"primary_email": "a@example.com"}])
    assert cli.main(["users", "import", str(source), "--progress"]) == 2
    assert "pip install 'stack-auth[progress]'" in capsys.readouterr().err
    assert cli.main(["users", "import", str(source)]) == 0  # no bar asked for: none drawn, no error
