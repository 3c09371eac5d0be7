-- Outbound alerts (written with the change that caused them), endpoints, deliveries and
-- their attempts; inbound vendor deliveries as received.
CREATE TABLE webhook_events (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    fanned_out INTEGER NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, event_id)
);
CREATE INDEX webhook_events_pending ON webhook_events (fanned_out, created_ms);
CREATE TABLE webhook_endpoints (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secrets TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, endpoint_id)
);
CREATE TABLE webhook_deliveries (
    delivery_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms BIGINT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_ms);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (tenant, env, endpoint_id, created_ms);
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    attempted_ms BIGINT NOT NULL,
    status TEXT NOT NULL,
    response_code INTEGER,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    next_attempt_ms BIGINT,
    PRIMARY KEY (delivery_id, number)
);
CREATE TABLE webhook_inbound (
    record_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    sink TEXT NOT NULL,
    vendor TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    source_ip TEXT,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    delivery_id TEXT,
    event_type TEXT,
    scheme TEXT,
    processed_ms BIGINT,
    outcome TEXT
);
CREATE UNIQUE INDEX webhook_inbound_once ON webhook_inbound (tenant, env, sink, delivery_id) WHERE verdict = 'accepted';
CREATE INDEX webhook_inbound_pending ON webhook_inbound (processed_ms, received_ms);
CREATE TABLE vendor_invoices (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    sink TEXT NOT NULL,
    invoice_ref TEXT NOT NULL,
    org TEXT NOT NULL,
    total TEXT,
    currency TEXT,
    period_start_ms BIGINT,
    period_end_ms BIGINT,
    recorded_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, sink, invoice_ref)
);
