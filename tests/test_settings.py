"""The settings module: safe defaults, loud failures, and a production path that passes
`manage.py check --deploy` with no warnings."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never does.
    inherited = {"DATABASE_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in inherited}
    return subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_no_warnings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        MESOCLINIC_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinic.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "perhaps"}, "DEBUG must be a boolean"),
        ({"EMAIL_HOST": "smtp.test", "EMAIL_PORT": "twenty-five"}, "EMAIL_PORT must be an integer"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL must point to PostgreSQL"),
        ({"MESOCLINIC_ENV": "staging"}, "MESOCLINIC_ENV must be"),
        ({"PUBLIC_LINK_RATE_LIMIT": "lots"}, "PUBLIC_LINK_RATE_LIMIT must look like 30/m"),
        ({"UPLOAD_MAX_PIXELS": "40 MP"}, "UPLOAD_MAX_PIXELS must be an integer"),
        ({"MESSAGING_DISPATCH_INTERVAL": "a minute"}, "MESSAGING_DISPATCH_INTERVAL must be an"),
        ({"MESOCLINIC_ENV": "production", "ALLOWED_HOSTS": "x.org"}, "SECRET_KEY must be set"),
        ({"MESOCLINIC_ENV": "production", "SECRET_KEY": "k" * 60}, "ALLOWED_HOSTS must be set"),
    ],
)
def test_a_malformed_setting_fails_loudly(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr
