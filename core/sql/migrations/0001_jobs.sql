-- The jobs table: the authoritative state of every job (see core/status.py for the
-- four status values). Redis only indexes what this table says.
CREATE TABLE jobs (
    id               uuid        PRIMARY KEY,
    queue            text        NOT NULL,
    type             text        NOT NULL,
    payload          jsonb       NOT NULL,
    status           text        NOT NULL
        CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer     NOT NULL CHECK (max_attempts >= 1),
    -- Attempts made before the current retry budget began: 0 at submit, the
    -- attempt count at each redrive. The budget is spent when
    -- attempts >= budget_start + max_attempts. Attempts themselves never go back,
    -- because the attempt number is the fencing token.
    budget_start     integer     NOT NULL DEFAULT 0,
    redrives         integer     NOT NULL DEFAULT 0,
    run_at           timestamptz NOT NULL,
    lease_expires_at timestamptz,
    last_error       text,
    errors           jsonb       NOT NULL DEFAULT '[]',
    result           jsonb,
    idempotency_key  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz
);

CREATE UNIQUE INDEX jobs_idempotency_key_idx ON jobs (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- Keyset pagination of GET /jobs, newest first.
CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC);

-- The reconciler's steady-state scan: queued rows changed since its last pass.
CREATE INDEX jobs_queued_updated_idx ON jobs (updated_at, id) WHERE status = 'queued';

-- Expired leases (crashed processors) and the running count.
CREATE INDEX jobs_running_lease_idx ON jobs (lease_expires_at) WHERE status = 'running';

-- The dead-letter queue.
CREATE INDEX jobs_failed_idx ON jobs (queue, finished_at) WHERE status = 'failed';
