-- The id of the HTTP request that submitted a job, so that the worker's and the
-- API's log lines about one job can be joined. NULL for jobs submitted otherwise.
ALTER TABLE jobs ADD COLUMN request_id text;
