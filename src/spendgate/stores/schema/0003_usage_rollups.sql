-- Usage totals per hour, node, meter and model, kept in the transaction that records the
-- events. `quantity` is '#events' (a count), '#credits' (nano-credits) or a quantity name
-- (billionths of its unit).
CREATE TABLE usage_rollups (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    org TEXT NOT NULL,
    project TEXT NOT NULL,
    user_id TEXT NOT NULL,
    meter TEXT NOT NULL,
    model TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    quantity TEXT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, org, hour_ms, project, user_id, meter, model, quantity)
);
CREATE INDEX usage_rollups_by_time ON usage_rollups (tenant, env, hour_ms);
