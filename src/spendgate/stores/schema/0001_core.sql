-- Core ledger schema. Every table is keyed by tenant, env and (where it belongs to one) org,
-- so it can be distributed by organization.
CREATE TABLE tenants (
    tenant TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL REFERENCES tenants (tenant),
    env TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    name TEXT,
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT
);
CREATE TABLE env_settings (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    doc TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env)
);
CREATE TABLE orgs (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    doc TEXT NOT NULL,
    wallet_held BIGINT NOT NULL,
    wallet_debt BIGINT NOT NULL,
    version BIGINT NOT NULL,
    journal_seq BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, org)
);
CREATE TABLE nodes (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    project TEXT NOT NULL,
    user_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, org, project, user_id)
);
CREATE TABLE grants (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    consumed BIGINT NOT NULL,
    doc TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, org, grant_id)
);
CREATE TABLE limits (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    limit_id TEXT NOT NULL,
    doc TEXT NOT NULL,
    window_start_ms BIGINT NOT NULL,
    used BIGINT NOT NULL,
    held BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, org, limit_id)
);
CREATE UNIQUE INDEX limits_by_id ON limits (tenant, env, limit_id);
CREATE TABLE reservations (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    res_id TEXT NOT NULL,
    status TEXT NOT NULL,
    hold_expires_ms BIGINT,
    doc TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, org, res_id)
);
CREATE UNIQUE INDEX reservations_by_id ON reservations (tenant, env, res_id);
CREATE INDEX reservations_open ON reservations (hold_expires_ms, tenant, env, org);
CREATE TABLE journal (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    postings TEXT NOT NULL,
    PRIMARY KEY (tenant, env, org, seq)
);
CREATE TABLE idempotency (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, idem_key)
);
CREATE TABLE usage_events (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    event_id TEXT NOT NULL,
    org TEXT NOT NULL,
    project TEXT NOT NULL,
    user_id TEXT NOT NULL,
    meter TEXT NOT NULL,
    ts_ms BIGINT NOT NULL,
    recorded_ms BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (tenant, env, event_id)
);
CREATE INDEX usage_events_by_org ON usage_events (tenant, env, org, recorded_ms);
CREATE INDEX usage_events_by_time ON usage_events (tenant, env, ts_ms);
CREATE TABLE sinks (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    config TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, name)
);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    sink TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_ms BIGINT NOT NULL,
    last_error TEXT,
    created_ms BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (tenant, env, sink, state, next_attempt_ms, seq);
CREATE TABLE rate_card_versions (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    card TEXT NOT NULL,
    version BIGINT NOT NULL,
    effective_ms BIGINT NOT NULL,
    doc TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, card, version)
);
CREATE TABLE audit_log (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (tenant, env, at_ms);
