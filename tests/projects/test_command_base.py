"""What every projects command shares (projects/management/commands/_base.py), as a deployment
script sees it: a failure is one line on stderr, no traceback, and a non-zero exit."""

import pytest

from tests.projects.commands import manage


@pytest.mark.django_db(transaction=True)
def test_a_failing_command_says_why_on_stderr_and_exits_non_zero():
    result = manage("add_member", "nowhere", "nobody")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "nobody" in result.stderr
    assert "Traceback" not in result.stderr
