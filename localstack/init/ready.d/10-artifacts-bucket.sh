#!/bin/bash
# Runs inside LocalStack once it is ready: the bucket deploy.py uploads function code to.
set -euo pipefail
awslocal s3 mb s3://task-engine-artifacts || true
