import os
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

from scheduler.cli import main

# Speed is measured in benchmarks/, never in tests: no example fails for being
# slow on a busy machine (Hypothesis's default deadline is 200 ms).
settings.register_profile("rota", deadline=None)
settings.load_profile("rota")

# Keep the holidays cache (and anything else under the cache dir) out of the
# user's home while testing.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="rota-test-cache-")
# Nothing from the developer's own environment may reach a test (the test
# harness's own ROTA_TEST_ settings aside: where scripts/test started PostgreSQL).
for name in list(os.environ):
    if name.startswith(("ROTA_", "ZENDESK_", "ZENPY_", "GOOGLE_", "SLACK_", "DATABASE_URL", "VCAP_SERVICES")) \
            and not name.startswith("ROTA_TEST_"):
        del os.environ[name]

sys.path.insert(0, str(Path(__file__).parent))

from dbkit import database_url, postgres_server, postgres_url, sqlite_url, _postgres_admin  # noqa: E402, F401  fixtures
from oidckit import oidc_provider  # noqa: E402, F401  fixture


@pytest.fixture
def roster_dir(tmp_path):
    d = tmp_path / "rosters"
    d.mkdir()
    return d


@pytest.fixture
def rota(capsys):
    """The `rota` command run in-process, as a person types it: returns the exit
    code and what it printed on stdout and stderr."""

    def run(*args):
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
