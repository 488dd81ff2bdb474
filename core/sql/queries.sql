-- Named queries, loaded once by core/queries.py. Each starts with a "-- name: x" line.
-- Every status change is guarded by the row's current status and, for a running
-- job, its attempt number: the fencing token of whoever holds the lease.
--
-- Batches arrive as one JSON document (:rows, unpacked by jsonb_to_recordset) and
-- id lists as one array literal (:ids): encoding a single string is far cheaper
-- for the client than pg8000's per-element array encoding.

-- name: insert_jobs
INSERT INTO jobs (id, queue, type, payload, status, max_attempts, run_at, idempotency_key,
                  request_id)
SELECT u.id, u.queue, u.type, u.payload, 'queued', u.max_attempts,
       now() + make_interval(secs => u.delay), u.idempotency_key, u.request_id
FROM jsonb_to_recordset(CAST(:rows AS jsonb))
     AS u(id uuid, queue text, type text, payload jsonb, max_attempts int, delay float8,
          idempotency_key text, request_id text)
ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
RETURNING id, run_at, created_at

-- name: jobs_by_keys
SELECT {columns} FROM jobs WHERE idempotency_key = ANY(CAST(:keys AS text[]))

-- name: get_job
SELECT {columns} FROM jobs WHERE id = CAST(:id AS uuid)

-- name: list_jobs
SELECT {columns} FROM jobs
WHERE (CAST(:status AS text) IS NULL OR status = :status)
  AND (CAST(:queue AS text) IS NULL OR queue = :queue)
  AND (CAST(:type AS text) IS NULL OR type = :type)
  AND (CAST(:after_ts AS timestamptz) IS NULL
       OR (created_at, id) < (CAST(:after_ts AS timestamptz), CAST(:after_id AS uuid)))
ORDER BY created_at DESC, id DESC
LIMIT :limit

-- name: claim_jobs
-- A queued job that is due, or a running one whose holder lost its lease (the
-- lost attempt is recorded as an error). SKIP LOCKED: a row someone else is
-- changing right now is not ours to take.
-- The status test is a CASE so that no partial index matches it: the planner,
-- misled by a young table's statistics, would otherwise scan a partial index
-- whole (dead entries included) for ids that the primary key finds directly.
WITH picked AS (
    SELECT id FROM jobs
    WHERE id = ANY(CAST(:ids AS uuid[]))
      AND CASE status WHEN 'queued' THEN run_at <= now()
                      WHEN 'running' THEN lease_expires_at < now()
                      ELSE false END
    ORDER BY id
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs j SET
    status = 'running',
    attempts = j.attempts + 1,
    started_at = now(),
    lease_expires_at = now() + make_interval(secs => CAST(:lease_seconds AS float8)),
    updated_at = now(),
    last_error = CASE WHEN j.status = 'running' THEN CAST(:lost_error AS text) ELSE j.last_error END,
    errors = CASE WHEN j.status = 'running'
        THEN j.errors || jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'error', CAST(:lost_error AS text), 'at', now()))
        ELSE j.errors END
FROM picked WHERE j.id = picked.id
RETURNING {columns_j}

-- name: job_states
SELECT id, queue, status, run_at, lease_expires_at FROM jobs WHERE id = ANY(CAST(:ids AS uuid[]))

-- name: complete_jobs
-- These four find their rows by the primary key alone (the id array, and a CASE
-- no partial index matches), for the reason given at claim_jobs.
UPDATE jobs j SET status = 'completed', result = u.result, finished_at = now(),
                  updated_at = now(), lease_expires_at = NULL
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(id uuid, attempt int, result jsonb)
WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.id = u.id
  AND CASE j.status WHEN 'running' THEN j.attempts = u.attempt ELSE false END
RETURNING j.id

-- name: retry_jobs
-- Also a release at shutdown (delay 0): the attempt stays counted, since it did
-- start, and is recorded, so attempts keep growing like the fencing token.
UPDATE jobs j SET status = 'queued', run_at = now() + make_interval(secs => u.delay),
                  lease_expires_at = NULL, updated_at = now(), last_error = u.error,
                  errors = j.errors || jsonb_build_array(jsonb_build_object(
                      'attempt', j.attempts, 'error', u.error, 'at', now()))
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(id uuid, attempt int, error text, delay float8)
WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.id = u.id
  AND CASE j.status WHEN 'running' THEN j.attempts = u.attempt ELSE false END
RETURNING j.id, j.run_at

-- name: dead_letter_jobs
UPDATE jobs j SET status = 'failed', finished_at = now(), lease_expires_at = NULL,
                  updated_at = now(), last_error = u.error,
                  errors = j.errors || jsonb_build_array(jsonb_build_object(
                      'attempt', j.attempts, 'error', u.error, 'at', now()))
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(id uuid, attempt int, error text)
WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.id = u.id
  AND CASE j.status WHEN 'running' THEN j.attempts = u.attempt ELSE false END
RETURNING j.id, j.finished_at

-- name: extend_leases
UPDATE jobs j SET lease_expires_at = now() + make_interval(secs => CAST(:lease_seconds AS float8))
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(id uuid, attempt int)
WHERE j.id = ANY(CAST(:ids AS uuid[])) AND j.id = u.id
  AND CASE j.status WHEN 'running' THEN j.attempts = u.attempt ELSE false END
RETURNING j.id, j.lease_expires_at

-- name: redrive_candidates
SELECT id, queue, run_at FROM jobs
WHERE status = 'failed'
  AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))
  AND (CAST(:queue AS text) IS NULL OR queue = :queue)
  AND (CAST(:type AS text) IS NULL OR type = :type)
ORDER BY finished_at, id
LIMIT :limit

-- name: redrive_jobs
-- A fresh retry budget as large as the first; attempts and the error history stay.
WITH picked AS (
    SELECT id FROM jobs
    WHERE status = 'failed'
      AND (CAST(:ids AS uuid[]) IS NULL OR id = ANY(CAST(:ids AS uuid[])))
      AND (CAST(:queue AS text) IS NULL OR queue = :queue)
      AND (CAST(:type AS text) IS NULL OR type = :type)
    ORDER BY finished_at, id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE jobs j SET status = 'queued', run_at = now(), budget_start = j.attempts,
                  redrives = j.redrives + 1, finished_at = NULL, result = NULL,
                  lease_expires_at = NULL, updated_at = now()
FROM picked WHERE j.id = picked.id
RETURNING j.id, j.queue, j.run_at

-- name: queued_since
-- The reconciler's steady-state pass: queued rows changed since its last pass.
SELECT id, queue, run_at, updated_at FROM jobs
WHERE status = 'queued'
  AND (updated_at, id) > (CAST(:after_ts AS timestamptz), CAST(:after_id AS uuid))
ORDER BY updated_at, id
LIMIT :limit

-- name: expired_leases
SELECT id, queue, lease_expires_at FROM jobs
WHERE status = 'running' AND lease_expires_at < now()
ORDER BY lease_expires_at
LIMIT :limit

-- name: active_page
-- The full resync after Redis lost its data: every job Redis must know about.
SELECT id, queue, status, run_at, lease_expires_at, finished_at FROM jobs
WHERE status IN ('queued', 'running', 'failed') AND id > CAST(:after_id AS uuid)
ORDER BY id
LIMIT :limit

-- name: db_now
SELECT now()
