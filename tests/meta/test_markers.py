"""Every test in the maintainer's folders is marked meta: a run without --meta skips those folders unread
(kata.pytest_plugin.MAINTAINER_FOLDERS), which drops no test only while this holds."""

import pytest

from kata.pytest_plugin import MAINTAINER_FOLDERS

pytestmark = pytest.mark.meta


def test_every_test_in_the_maintainers_folders_is_marked_meta(request):
    items = [item for item in request.session.items if item.path.parent in MAINTAINER_FOLDERS]
    unmarked = [item.nodeid for item in items if not item.get_closest_marker("meta")]
    if not items:
        pytest.fail(f"no test collected from {[str(folder) for folder in MAINTAINER_FOLDERS]}")
    if unmarked:
        pytest.fail(
            f"mark these meta (pytestmark = pytest.mark.meta) or move them out of tests/meta, tests/runner: {unmarked}"
        )
