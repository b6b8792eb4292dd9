# hongbao's image: one image for every process of the scaled topology (docs/deploy.md, compose.yaml).
# NOT RUN HERE: this workplace has no Docker engine. Written from the commands the tests run (tests/scaled);
# check it on your own machine before relying on it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --create-home --uid 10001 hongbao

COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip install .

USER hongbao
EXPOSE 8000
# API process by default; the compose file runs `hongbao worker` and `hongbao migrate` from the same image.
CMD ["hongbao", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-scheduler", "--no-demo"]
