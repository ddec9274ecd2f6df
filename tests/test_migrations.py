from django.core.management import call_command


def test_the_models_and_their_migrations_agree(db):
    # makemigrations --check exits non-zero when a model change has no migration.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
