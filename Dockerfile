# Container-image variant of the WORKER (not the default; see docs/deploy.md, "Container image").
# For models or dependencies that do not fit the 262,144,000-byte zip limit: an image may be up
# to 10 GB, so nothing is trimmed and the pinned AWS SDK is installed too. Needs Docker to build.
#
#   docker build --platform linux/amd64 -t numerai-bot-worker .     # or linux/arm64
#
# With SAM: give WorkerFunction `PackageType: Image`, `ImageConfig: {Command: ["worker.handler"]}`,
# drop CodeUri/Handler/Runtime, and set `Metadata: {Dockerfile: Dockerfile, DockerContext: .,
# DockerTag: python3.12}`.
FROM public.ecr.aws/lambda/python:3.12

# Dependencies first, so that code changes reuse this layer.
COPY handlers/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check \
        --requirement /tmp/requirements.txt --target "${LAMBDA_TASK_ROOT}" \
    && rm /tmp/requirements.txt

COPY handlers/*.py ${LAMBDA_TASK_ROOT}/
COPY handlers/numerai_bot/ ${LAMBDA_TASK_ROOT}/numerai_bot/

# The image keeps file timestamps, but compiling now spares every cold start the work (the task
# root is read-only at run time, so Lambda could not cache the .pyc files itself).
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash "${LAMBDA_TASK_ROOT}"

CMD ["worker.handler"]
