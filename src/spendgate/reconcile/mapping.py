"""Which Spendgate org/project and rate-card model each provider account and model name means.

A mapping file (YAML or JSON) holds, per provider, the account rules (provider project,
workspace or API key -> org/project), the model names (exact or glob -> rate-card model),
optional quantity renames and the models in scope. See docs/reconcile.md for an example.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from spendgate.reconcile.errors import ReconcileInputError

# Account rule fields: the first three name a provider project or workspace, the last an API key.
_ACCOUNT_FIELDS = ("project_id", "workspace_id", "account")
_API_KEY_FIELD = "api_key_id"

# Spendgate models each provider serves, used to decide which metered usage a provider export
# should cover. A tenant can replace these in the mapping's `scope`.
DEFAULT_SCOPE: Mapping[str, tuple[str, ...]] = {
    "openai": (
        "gpt-*", "chatgpt-*", "o1*", "o3*", "o4*", "dall-e*", "tts-*", "whisper-*",
        "text-embedding-*", "omni-moderation*", "text-moderation*", "sora*", "codex*",
    ),
    "anthropic": ("claude-*",),
}


@dataclass(frozen=True, slots=True)
class AccountRule:
    provider: str
    field: str | None  # "account", "api_key" or None for the provider's fallback
    value: str | None
    org: str
    project: str | None


@dataclass(frozen=True, slots=True)
class CreditValue:
    """What one credit is worth, to compare provider cost with metered credits."""

    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class CsvLayout:
    """How a generic CSV export's columns map to a provider row."""

    provider: str
    meter: str
    columns: Mapping[str, str]  # role -> column: timestamp, model, account, api_key, ...
    quantities: Mapping[str, str]  # column -> measure name
    period: str = "day"


@dataclass(frozen=True, slots=True)
class ProviderMapping:
    tenant: str = "default"
    env: str = "live"
    accounts: tuple[AccountRule, ...] = ()
    models: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    quantities: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    measures: tuple[str, ...] | None = None
    scope: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    credit_value: CreditValue | None = None
    cost_quantity: str = "provider_cost"
    csv: CsvLayout | None = None

    def resolver(self, provider: str) -> Resolver:
        return Resolver(self, provider)


class Resolver:
    """Mapping lookups for one provider, cached: an import asks the same few questions often."""

    def __init__(self, mapping: ProviderMapping, provider: str) -> None:
        self.provider = provider
        self.mapping = mapping
        self._by_account: dict[str, tuple[str, str | None]] = {}
        self._by_key: dict[str, tuple[str, str | None]] = {}
        self._fallback: tuple[str, str | None] | None = None
        for rule in mapping.accounts:
            if rule.provider != provider:
                continue
            target = (rule.org, rule.project)
            if rule.field == "api_key" and rule.value is not None:
                self._by_key[rule.value] = target
            elif rule.field == "account" and rule.value is not None:
                self._by_account[rule.value] = target
            else:
                self._fallback = target
        models = mapping.models.get(provider, {})
        self._exact = {k: v for k, v in models.items() if not _is_glob(k)}
        self._globs = [(k, v) for k, v in models.items() if _is_glob(k)]
        self._model_cache: dict[str, str | None] = {}
        scope = mapping.scope.get(provider, DEFAULT_SCOPE.get(provider, ()))
        self._scope_globs = tuple(scope)
        self._scope_exact = frozenset(models.values())
        self._scope_cache: dict[str | None, bool] = {}
        self.renames: Mapping[str, str] = mapping.quantities.get(provider, {})

    def account(self, account: str | None, api_key: str | None) -> tuple[str, str | None] | None:
        """The org/project of a provider row: API key rule, then account rule, then fallback."""
        if api_key is not None:
            hit = self._by_key.get(api_key)
            if hit is not None:
                return hit
        if account is not None:
            hit = self._by_account.get(account)
            if hit is not None:
                return hit
        return self._fallback

    def model(self, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            return self._model_cache[name]
        except KeyError:
            pass
        found = self._exact.get(name)
        if found is None:
            for pattern, target in self._globs:
                if fnmatch.fnmatchcase(name, pattern):
                    found = target
                    break
        self._model_cache[name] = found
        return found

    def in_scope(self, model: str | None) -> bool:
        """Whether metered usage of this Spendgate model should appear in the provider's export."""
        try:
            return self._scope_cache[model]
        except KeyError:
            pass
        inside = model is not None and (
            model in self._scope_exact
            or any(fnmatch.fnmatchcase(model, pattern) for pattern in self._scope_globs)
        )
        self._scope_cache[model] = inside
        return inside


def _is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


def load_mapping(path: str | Path) -> ProviderMapping:
    """Read a YAML or JSON mapping file; a mistake names the file and the entry."""
    name = str(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        raise ReconcileInputError(name, None, f"cannot read mapping: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ReconcileInputError(name, None, f"not valid YAML/JSON: {exc}") from exc
    return mapping_from_dict(data or {}, source=name)


def mapping_from_dict(data: Any, *, source: str = "mapping") -> ProviderMapping:
    if not isinstance(data, dict):
        raise ReconcileInputError(source, None, "the mapping must be an object")
    rules = [_rule(source, i, item) for i, item in enumerate(_list(source, data, "accounts"))]
    models = _nested_str_map(source, data, "models")
    quantities = _nested_str_map(source, data, "quantities")
    scope_raw = data.get("scope") or {}
    if not isinstance(scope_raw, dict):
        raise ReconcileInputError(source, "scope", "must map a provider to a list of models")
    scope = {str(k): tuple(str(x) for x in _as_list(source, f"scope.{k}", v))
             for k, v in scope_raw.items()}
    measures_raw = data.get("measures")
    measures = (
        None if measures_raw is None
        else tuple(str(x) for x in _as_list(source, "measures", measures_raw))
    )
    return ProviderMapping(
        tenant=str(data.get("tenant", "default")),
        env=str(data.get("env", "live")),
        accounts=tuple(rules),
        models=models,
        quantities=quantities,
        measures=measures,
        scope=scope,
        credit_value=_credit_value(source, data.get("credit_value")),
        cost_quantity=str(data.get("cost_quantity", "provider_cost")),
        csv=_csv_layout(source, data.get("csv")),
    )


def _list(source: str, data: dict[str, Any], key: str) -> list[Any]:
    return _as_list(source, key, data.get(key) or [])


def _as_list(source: str, where: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ReconcileInputError(source, where, "must be a list")
    return value


def _rule(source: str, index: int, item: Any) -> AccountRule:
    where = f"accounts[{index}]"
    if not isinstance(item, dict) or not isinstance(item.get("provider"), str):
        raise ReconcileInputError(source, where, "needs a provider, an org and a selector")
    if not isinstance(item.get("org"), str):
        raise ReconcileInputError(source, where, "needs an org")
    project = item.get("project")
    if project is not None and not isinstance(project, str):
        raise ReconcileInputError(source, where, "project must be a string")
    selectors = [(f, item[f]) for f in (*_ACCOUNT_FIELDS, _API_KEY_FIELD) if f in item]
    if len(selectors) > 1:
        raise ReconcileInputError(source, where, "name one selector (project_id, workspace_id, "
                                  "account or api_key_id), not several")
    if not selectors:
        return AccountRule(item["provider"], None, None, item["org"], project)
    name, value = selectors[0]
    if not isinstance(value, str):
        raise ReconcileInputError(source, where, f"{name} must be a string")
    kind = "api_key" if name == _API_KEY_FIELD else "account"
    return AccountRule(item["provider"], kind, value, item["org"], project)


def _nested_str_map(source: str, data: dict[str, Any], key: str) -> dict[str, dict[str, str]]:
    raw = data.get(key) or {}
    if not isinstance(raw, dict):
        raise ReconcileInputError(source, key, "must map a provider to name -> name")
    out: dict[str, dict[str, str]] = {}
    for provider, names in raw.items():
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in names.items()
        ):
            raise ReconcileInputError(source, f"{key}.{provider}", "must map names to names")
        out[str(provider)] = dict(names)
    return out


def _credit_value(source: str, raw: Any) -> CreditValue | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("currency"), str):
        raise ReconcileInputError(source, "credit_value", "needs a currency and an amount")
    amount = raw.get("amount")
    if not isinstance(amount, str):
        raise ReconcileInputError(
            source, "credit_value.amount", 'must be a decimal string such as "0.01"'
        )
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ReconcileInputError(source, "credit_value.amount", "is not a decimal") from exc
    if not value.is_finite() or value <= 0:
        raise ReconcileInputError(source, "credit_value.amount", "must be positive")
    return CreditValue(raw["currency"].upper(), value)


def _csv_layout(source: str, raw: Any) -> CsvLayout | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ReconcileInputError(source, "csv", "must be an object")
    columns = raw.get("columns") or {}
    quantities = raw.get("quantities") or {}
    if not isinstance(columns, dict) or not isinstance(quantities, dict):
        raise ReconcileInputError(source, "csv", "columns and quantities must be objects")
    for role in ("timestamp", "model"):
        if role not in columns:
            raise ReconcileInputError(source, f"csv.columns.{role}", "is required")
    if not quantities and "cost" not in columns:
        raise ReconcileInputError(source, "csv.quantities", "name at least one quantity column")
    period = str(raw.get("period", "day"))
    if period not in ("hour", "day"):
        raise ReconcileInputError(source, "csv.period", "must be hour or day")
    return CsvLayout(
        provider=str(raw.get("provider", "csv")),
        meter=str(raw.get("meter", "usage")),
        columns={str(k): str(v) for k, v in columns.items()},
        quantities={str(k): str(v) for k, v in quantities.items()},
        period=period,
    )


__all__ = [
    "DEFAULT_SCOPE",
    "AccountRule",
    "CreditValue",
    "CsvLayout",
    "ProviderMapping",
    "Resolver",
    "load_mapping",
    "mapping_from_dict",
]
