#!/bin/sh
# Runs the handler named by the command ("functions.get.handler"). Outside Lambda
# there is no Runtime API, so the emulator provides one and serves
# POST :8080/2015-03-31/functions/function/invocations.
set -e
if [ $# -eq 0 ]; then
  echo "usage: <image> functions.{submit,get,process,dlq_redrive}.handler" >&2
  exit 2
fi
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
  exec /usr/local/bin/aws-lambda-rie python3 -m awslambdaric "$@"
fi
exec python3 -m awslambdaric "$@"
