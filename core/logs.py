"""Structured JSON logs through aws-lambda-powertools, in every mode."""

import logging
import os
import sys

from aws_lambda_powertools import Logger

__all__ = ["get_logger"]

_loggers: dict[str, Logger] = {}


def get_logger(service: str = "taskengine") -> Logger:
    """One Logger per service name. Per-job fields go in ``extra=`` (thread-safe),
    never in append_keys, which all threads of a worker would share."""
    if service not in _loggers:
        _loggers[service] = Logger(
            service=service,
            level=os.environ.get("TASKENGINE_LOG_LEVEL", "INFO").upper(),
            # stdout carries command output (job JSON); logs go to stderr.
            logger_handler=logging.StreamHandler(sys.stderr),
        )
    return _loggers[service]
