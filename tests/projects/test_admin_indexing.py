"""The admin's view of each project's code index: the Git source on the project's page, the
index's state, counts and errors there and in the project list, and "Re-index now"."""

import pytest

from projects.models import IndexState, ProjectIndex
from tests.projects.conftest import code
from tests.projects.test_admin import PROJECTS, project_form, run_action

SECRET_URL = "https://alice:s3cret-token@git.example.com/acme/tools.git"


@pytest.fixture(autouse=True)
def engine_dir(settings, tmp_path):
    """The test's own LOCAL_ENGINE_DIR: its projects' ids recur in every test's database, and a
    run's locks left by another test would tell of a run that was lost."""
    settings.LOCAL_ENGINE_DIR = tmp_path / "engine"


def page(project) -> str:
    return f"{PROJECTS}{project.pk}/change/"


def with_source(project, **source: str) -> dict:
    """The project page's form with the Git source set to `source`."""
    index = ProjectIndex.objects.filter(project=project).first()
    data = project_form(project)
    data.update(
        {
            "code_index-TOTAL_FORMS": "1",
            "code_index-INITIAL_FORMS": "1" if index else "0",
            "code_index-0-project": str(project.pk),
            "code_index-0-git_url": source.get("git_url", ""),
            "code_index-0-git_branch": source.get("git_branch", ""),
        }
    )
    return data


def test_the_project_page_sets_the_git_source(admin_client, world):
    response = admin_client.post(
        page(world.project),
        with_source(world.project, git_url="git@git.example.com:acme/tools.git", git_branch="main"),
    )

    assert response.status_code == 302
    index = ProjectIndex.objects.get(project=world.project)
    assert (index.git_url, index.git_branch) == ("git@git.example.com:acme/tools.git", "main")


@pytest.mark.parametrize(
    "url",
    [
        "ext::sh -c touch% /tmp/pwned",
        "ssh://-oProxyCommand=touch%20pwned/acme/tools.git",
        "ssh://%2doProxyCommand=touch/acme/tools.git",
        "ssh://%2doProxyCommand@git.example.com/acme/tools.git",
        "git@-oProxyCommand=touch:acme/tools.git",
        "-oProxyCommand=touch@host:acme/tools.git",
        "fd::17",
        "/srv/git/tools.git",
        "file:///srv/git/tools.git",
        "ftp://git.example.com/tools.git",
        "https://git.example.com",
    ],
)
def test_the_project_page_refuses_a_url_git_should_not_fetch(admin_client, world, url):
    response = admin_client.post(page(world.project), with_source(world.project, git_url=url))

    assert response.status_code == 200
    assert "Git URL" in response.content.decode()
    assert response.context["errors"]
    assert not ProjectIndex.objects.exists()


@pytest.mark.parametrize(
    "branch", ["--upload-pack=touch pwned", "-main", "a..b", "main branch", "main.lock", "a@{1}"]
)
def test_the_project_page_refuses_a_branch_git_would_not_take(admin_client, world, branch):
    form = with_source(world.project, git_url="https://git.example.com/a.git", git_branch=branch)

    response = admin_client.post(page(world.project), form)

    assert response.status_code == 200
    assert not ProjectIndex.objects.exists()


def test_file_urls_are_taken_where_the_operator_allows_them(admin_client, world, settings):
    settings.INDEX_ALLOW_FILE_URLS = True

    response = admin_client.post(
        page(world.project), with_source(world.project, git_url="file:///srv/git/tools.git")
    )

    assert response.status_code == 302


@pytest.mark.parametrize(
    "url", [SECRET_URL, "https://alice:s3cret@token@git.example.com/acme/tools.git"]
)
def test_the_credentials_of_a_url_are_never_shown(admin_client, world, url):
    ProjectIndex.objects.create(
        project=world.project,
        git_url=url,
        state=IndexState.FAILED,
        error="git fetch: fatal: unable to access 'https://***@git.example.com/acme/tools.git/'",
    )

    for url in (page(world.project), PROJECTS):
        content = admin_client.get(url).content.decode()
        assert "s3cret" not in content
        assert "@token@" not in content
        assert "alice:" not in content
    masked = "https://***@git.example.com/acme/tools.git"
    assert masked in admin_client.get(page(world.project)).content.decode()
    assert "unable to access" in admin_client.get(PROJECTS).content.decode()


def test_saving_the_page_with_the_masked_url_keeps_the_credentials(admin_client, world):
    ProjectIndex.objects.create(project=world.project, git_url=SECRET_URL)
    masked = "https://***@git.example.com/acme/tools.git"

    response = admin_client.post(
        page(world.project), with_source(world.project, git_url=masked, git_branch="release")
    )

    assert response.status_code == 302
    index = ProjectIndex.objects.get(project=world.project)
    assert (index.git_url, index.git_branch) == (SECRET_URL, "release")


def test_the_mask_cannot_be_sent_with_another_host(admin_client, world):
    ProjectIndex.objects.create(project=world.project, git_url=SECRET_URL)

    response = admin_client.post(
        page(world.project),
        with_source(world.project, git_url="https://***@evil.example.com/acme/tools.git"),
    )

    assert response.status_code == 200
    assert "Type the URL&#x27;s credentials again" in response.content.decode()
    assert ProjectIndex.objects.get(project=world.project).git_url == SECRET_URL


def reindex_now(admin_client, project, capture):
    """The project list's action, and the tasks it queued once the change was committed."""
    with capture(execute=True) as queued:
        response = run_action(admin_client, PROJECTS, "reindex_now", [project])
    assert response.status_code == 302
    return queued


def test_reindex_now_indexes_the_git_source_once_committed(
    admin_client, world, remote, django_capture_on_commit_callbacks
):
    ProjectIndex.objects.create(project=world.project, git_url=remote.url)

    queued = reindex_now(admin_client, world.project, django_capture_on_commit_callbacks)

    assert len(queued) == 1
    assert ProjectIndex.objects.get(project=world.project).state == IndexState.DONE


def test_reindex_now_names_the_projects_without_a_git_source(
    admin_client, world, django_capture_on_commit_callbacks
):
    queued = reindex_now(admin_client, world.public_project, django_capture_on_commit_callbacks)

    assert queued == []
    content = admin_client.get(PROJECTS).content.decode()
    assert "No Git source to index for acme/website" in content


def test_the_project_page_shows_the_index_after_a_run(
    admin_client, world, remote, django_capture_on_commit_callbacks
):
    ProjectIndex.objects.create(project=world.project, git_url=remote.url)
    newest = remote.commit({"billing.py": code("billing", 50)})
    reindex_now(admin_client, world.project, django_capture_on_commit_callbacks)

    content = admin_client.get(page(world.project)).content.decode()

    assert f'Code index:</b> <span class="inline_label">{world.project.full_path}\n' in content
    assert "Indexed" in content
    assert newest in content
    assert "3 files read, 0 unchanged, 1 skipped, 0 removed" in content
    assert '<div class="readonly">8</div>' in content  # chunks: 2, 2 and 4 (50 lines)


def test_the_project_list_shows_each_projects_index_and_its_progress(admin_client, world):
    ProjectIndex.objects.create(
        project=world.project, state=IndexState.READING, files_done=40, files_total=120
    )
    ProjectIndex.objects.create(
        project=world.public_project, state=IndexState.DONE, files=12, chunks=80
    )

    content = admin_client.get(PROJECTS).content.decode()

    assert "Reading files: 40/120" in content
    assert '<td class="field-indexed_files">12</td>' in content
    assert '<td class="field-indexed_chunks">80</td>' in content
