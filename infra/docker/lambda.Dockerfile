# The Lambda functions (submit, get, process, dlq_redrive) as a container image,
# built on task-engine's runtime image:
#
#   docker build -f infra/docker/Dockerfile -t task-engine .
#   docker build -f infra/docker/lambda.Dockerfile -t task-engine-lambda .
#   docker run -p 9000:8080 -e DATABASE_URL=... -e REDIS_URL=... task-engine-lambda functions.submit.handler
#   curl -d @tests/events/apigw_submit_job.json localhost:9000/2015-03-31/functions/function/invocations
#
# The command names the handler. Outside Lambda the entrypoint runs it under the
# Runtime Interface Emulator, which serves the standard invoke URL on 8080; in
# Lambda (AWS_LAMBDA_RUNTIME_API set) it runs the runtime interface client alone.
# The emulator binary comes from the aws-sam-cli wheel on PyPI, which ships it,
# so the build needs only PyPI.
ARG TASKENGINE_IMAGE=task-engine:latest
FROM ${TASKENGINE_IMAGE}
ARG AWS_SAM_CLI_VERSION=1.170.0
USER root
RUN pip install 'awslambdaric>=3,<5' \
 && pip download --no-deps --dest /tmp/sam "aws-sam-cli==${AWS_SAM_CLI_VERSION}" \
 && python3 -c "import platform, zipfile, glob; \
arch = {'x86_64': 'x86_64', 'aarch64': 'arm64'}[platform.machine()]; \
wheel = zipfile.ZipFile(glob.glob('/tmp/sam/*.whl')[0]); \
open('/usr/local/bin/aws-lambda-rie', 'wb').write(wheel.read('samcli/local/rapid/aws-lambda-rie-' + arch))" \
 && chmod 755 /usr/local/bin/aws-lambda-rie \
 && rm -rf /tmp/sam
COPY infra/docker/lambda-entrypoint.sh /usr/local/bin/lambda-entrypoint.sh
USER 10001
EXPOSE 8080
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/lambda-entrypoint.sh"]
CMD ["functions.get.handler"]
