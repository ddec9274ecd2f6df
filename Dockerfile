# The service, its Celery worker and beat: one image, three commands (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 codesuggest
# git (and ssh for ssh:// sources): workers clone the projects' Git sources to index them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt ./
RUN pip install -r requirements.txt

# Only the application: no virtual environment, database or local data from a work tree.
COPY manage.py gunicorn.conf.py ./
COPY codesuggest codesuggest/
COPY projects projects/
COPY completions completions/
COPY chat chat/
COPY templates templates/
COPY static static/
# Static files are served by WhiteNoise from var/static; the key is only for this build step.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v 0 \
    && mkdir -p var/local_engine && chown -R codesuggest var

USER codesuggest
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "codesuggest.wsgi"]
