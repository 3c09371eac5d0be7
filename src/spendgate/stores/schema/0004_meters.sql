-- Meter definitions: named aggregations over usage events.
CREATE TABLE meters (
    tenant TEXT NOT NULL,
    env TEXT NOT NULL,
    name TEXT NOT NULL,
    doc TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant, env, name)
);
