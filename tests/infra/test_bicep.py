"""The Bicep template, checked without a Bicep compiler (none is available offline).

What can go wrong in a template that compiles and still breaks the app is checked here: the
app settings it sets are exactly those the code reads in Azure (validated by the code's own
settings loader), the role definition ids are the documented built-in ones, storage refuses
shared keys, secrets only arrive as Key Vault references, and modules are wired to the
parameters they declare. ``az bicep build`` in CI remains the syntax check.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest

from shared import telemetry
from shared.api_models import azure_readiness_problems
from shared.settings import ENV_PREFIX, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
BICEP = ROOT / "infra" / "bicep"
MODULES = BICEP / "modules"
SECRET_FIELDS = {"password", "security_token", "client_secret", "access_token", "token"}

# Sample values for the function app module's parameters, as main.bicep would pass them.
SAMPLE_PARAMS: dict[str, Any] = {
    "location": "westeurope",
    "appName": "acme-mig-func-abc",
    "planName": "acme-mig-plan-abc",
    "storageName": "stacmemigabc",
    "blobEndpoint": "https://stacmemigabc.blob.core.windows.net/",
    "deploymentContainerName": "app-package",
    "stagingContainerName": "staging",
    "appInsightsConnectionString": "InstrumentationKey=00000000-0000-0000-0000-000000000000",
    "vaultName": "kv-acmemig-abc",
    "salesforceSecretName": "salesforce-client-secret",
    "dataverseUrl": "https://contoso.crm.dynamics.com",
    "salesforceInstanceUrl": "https://acme.my.salesforce.com",
    "salesforceClientId": "3MVG9-key",
    "fallbackOwnerEmail": "crm-admin@contoso.com",
    "deltaSchedule": "0 0 2 * * *",
    "deltaSyncEnabled": False,
    "pythonVersion": "3.11",
    "maximumInstanceCount": 40,
    "instanceMemoryMB": 2048,
    "pythonThreadCount": 4,
    "tags": {},
}
DOCUMENTED_ROLES = {
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "keyVaultSecretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
}
# App settings the Flex Consumption plan rejects or ignores (runtime lives in functionAppConfig).
FLEX_REJECTED = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "AzureWebJobsStorage",
}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def all_bicep() -> dict[str, str]:
    return {p.name: read(p) for p in sorted(BICEP.rglob("*.bicep"))}


def app_settings_source() -> list[tuple[str, str]]:
    """``(name, value expression)`` of every entry in the function app's appSettings."""
    text = read(MODULES / "functionapp.bicep")
    block = text.split("appSettings: [", 1)[1].split("\n      ]", 1)[0]
    pairs = re.findall(r"name:\s*'([^']+)'\s*\n\s*value:\s*(.+)", block)
    assert pairs, "no app settings found"
    return [(n, v.strip()) for n, v in pairs]


def evaluate(expr: str, params: dict[str, Any]) -> str:
    """The value of the small Bicep expressions the app settings use."""
    if m := re.fullmatch(r"(\w+) \? '([^']*)' : '([^']*)'", expr):
        return m.group(2) if params[m.group(1)] else m.group(3)
    if m := re.fullmatch(r"string\((\w+)\)", expr):
        return str(params[m.group(1)])
    if re.fullmatch(r"\w+", expr):
        value = params[expr]
        return str(value).lower() if isinstance(value, bool) else str(value)
    if m := re.fullmatch(r"'(.*)'", expr):
        return re.sub(r"\$\{(\w+)\}", lambda g: str(params[g.group(1)]), m.group(1))
    raise AssertionError(f"cannot evaluate app setting expression {expr!r}")


@functools.cache
def app_settings() -> dict[str, str]:
    return {name: evaluate(expr, SAMPLE_PARAMS) for name, expr in app_settings_source()}


def declared_params(text: str) -> dict[str, bool]:
    """Parameter name -> has a default value."""
    return {
        m.group(1): m.group(2) is not None
        for m in re.finditer(r"^param (\w+) \w+( = .+)?$", text, flags=re.MULTILINE)
    }


def settings_path(app_setting: str) -> tuple[str, str]:
    section, key = app_setting.removeprefix(ENV_PREFIX).lower().split("__")
    return section, key


# -- the app settings match what the code reads --------------------------------------


def test_every_migration_setting_is_a_real_settings_field() -> None:
    for name in app_settings():
        if not name.startswith(ENV_PREFIX):
            continue
        section, key = settings_path(name)
        assert section in Settings.model_fields, name
        section_model = Settings.model_fields[section].annotation
        assert section_model is not None
        assert key in section_model.model_fields, name


def test_the_code_accepts_the_template_settings_as_a_complete_azure_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    for name, value in app_settings().items():
        resolved = "secret-from-key-vault" if value.startswith("@Microsoft.KeyVault(") else value
        monkeypatch.setenv(name, resolved)

    settings = load_settings()

    assert azure_readiness_problems(settings) == []
    assert settings.stage.backend == "blob"
    assert settings.stage.account_url == SAMPLE_PARAMS["blobEndpoint"]
    assert settings.stage.container == "staging"
    assert settings.dataverse.auth == "managed_identity"
    assert settings.delta.schedule == "0 0 2 * * *"


def test_secrets_only_arrive_as_key_vault_references() -> None:
    settings = app_settings()
    for name, value in settings.items():
        is_secret = name.startswith(ENV_PREFIX) and settings_path(name)[1] in SECRET_FIELDS
        is_reference = value.startswith("@Microsoft.KeyVault(")
        assert is_secret == is_reference, name
    ref = settings[f"{ENV_PREFIX}SALESFORCE__CLIENT_SECRET"]
    assert ref == (
        "@Microsoft.KeyVault(VaultName=kv-acmemig-abc;SecretName=salesforce-client-secret)"
    )


def test_binding_expressions_of_the_app_resolve_to_template_settings() -> None:
    import function_app

    expressions = set()
    fresh_app, _ = function_app.build_app()
    for fn in fresh_app.get_functions():
        text = fn.get_function_json()
        expressions |= set(re.findall(r"%(\w+)%", text))
    assert expressions == {"MIGRATION__DELTA__SCHEDULE"}
    assert expressions <= set(app_settings())


def test_delta_timer_is_disabled_unless_enabled_by_parameter() -> None:
    from orchestrators import http_api

    timer_name = http_api.delta_sync_timer.build().get_function_name()
    setting = f"AzureWebJobs.{timer_name}.Disabled"
    assert app_settings()[setting] == "true"
    enabled = {**SAMPLE_PARAMS, "deltaSyncEnabled": True}
    assert evaluate(dict(app_settings_source())[setting], enabled) == "false"
    assert "param deltaSyncEnabled bool = false" in read(BICEP / "main.bicep")


def test_telemetry_and_host_storage_settings_are_set_for_identity_auth() -> None:
    settings = app_settings()
    assert set(telemetry.APP_SETTINGS_READ) <= set(settings)
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    assert telemetry.WORKER_TELEMETRY_SETTING not in settings  # the app configures export
    assert settings["AzureWebJobsStorage__accountName"] == SAMPLE_PARAMS["storageName"]
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert not FLEX_REJECTED & set(settings)


def test_host_json_durable_concurrency_matches_the_python_worker() -> None:
    host = json.loads(read(ROOT / "host.json"))
    durable = host["extensions"]["durableTask"]
    threads = int(app_settings()["PYTHON_THREADPOOL_THREAD_COUNT"])
    main_default = re.search(r"param pythonThreadCount int = (\d+)", read(BICEP / "main.bicep"))
    assert main_default is not None
    assert int(main_default.group(1)) == threads
    # Flex Consumption runs one Python worker process per instance.
    assert durable["maxConcurrentActivityFunctions"] == threads
    assert durable["maxConcurrentOrchestratorFunctions"] == threads
    assert host["extensionBundle"] == {
        "id": "Microsoft.Azure.Functions.ExtensionBundle",
        "version": "[4.*, 5.0.0)",
    }
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]{2,49}", durable["hubName"])
    assert durable["tracing"]["traceInputsAndOutputs"] is False


# -- identity, roles and secrets -----------------------------------------------------


def test_role_assignments_use_the_documented_built_in_roles() -> None:
    text = read(MODULES / "rbac.bicep")
    declared = dict(re.findall(r"^var (\w+) = '([0-9a-f-]{36})'", text, flags=re.MULTILINE))
    assert declared == DOCUMENTED_ROLES
    guids = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text))
    assert guids == set(DOCUMENTED_ROLES.values())
    for var in DOCUMENTED_ROLES:
        assert text.count(var) >= 2, f"{var} is declared but never assigned"
    assert text.count("principalType: 'ServicePrincipal'") == 3


def test_storage_refuses_shared_keys_and_public_access() -> None:
    text = read(MODULES / "storage.bicep")
    assert "allowSharedKeyAccess: false" in text
    assert "allowBlobPublicAccess: false" in text
    assert "minimumTlsVersion: 'TLS1_2'" in text
    assert "stagingContainerName" in text


def test_key_vault_uses_rbac_and_app_insights_refuses_keys() -> None:
    assert "enableRbacAuthorization: true" in read(MODULES / "keyvault.bicep")
    assert "DisableLocalAuth: true" in read(MODULES / "monitoring.bicep")
    app = read(MODULES / "functionapp.bicep")
    assert "type: 'SystemAssigned'" in app
    assert "keyVaultReferenceIdentity: 'SystemAssigned'" in app
    assert "tier: 'FlexConsumption'" in app
    assert "type: 'SystemAssignedIdentity'" in app


def test_no_secret_ever_appears_in_the_templates() -> None:
    forbidden = re.compile(
        r"listKeys\(|AccountKey=|SharedAccessSignature|sig=|password\s*[:=]\s*'[^']+'|"
        r"listSecrets\(|Bearer ",
        re.IGNORECASE,
    )
    for name, text in all_bicep().items():
        assert not forbidden.search(text), name
        for m in re.finditer(r"@secure\(\)\s*\nparam (\w+) string( = (.+))?", text):
            assert m.group(3) in (None, "''"), f"{name}: secure param {m.group(1)} has a default"
        assert not re.search(r"^output \w+ string = .*[Ss]ecret", text, re.MULTILINE), name
    example = json.loads(read(BICEP / "main.parameters.example.json"))
    assert "salesforceClientSecret" not in example["parameters"]


def test_principal_id_is_an_output() -> None:
    main = read(BICEP / "main.bicep")
    assert "output principalId string = functionApp.outputs.principalId" in main
    assert "output principalId string = site.identity.principalId" in read(
        MODULES / "functionapp.bicep"
    )


# -- wiring between main.bicep and its modules ----------------------------------------


def module_calls(main: str) -> list[tuple[str, dict[str, str]]]:
    calls = []
    pattern = r"^module \w+ '([^']+)' = \{\n(.*?)^\}"
    for m in re.finditer(pattern, main, flags=re.MULTILINE | re.DOTALL):
        params_block = m.group(2).split("params: {", 1)[1]
        passed = dict(re.findall(r"^\s{4}(\w+): (.+)$", params_block, flags=re.MULTILINE))
        calls.append((m.group(1), passed))
    return calls


def test_every_module_gets_exactly_the_parameters_it_declares() -> None:
    main = read(BICEP / "main.bicep")
    calls = module_calls(main)
    assert {path for path, _ in calls} == {f"modules/{p.name}" for p in MODULES.glob("*.bicep")}
    for path, passed in calls:
        declared = declared_params(read(BICEP / path))
        assert set(passed) <= set(declared), f"{path}: unknown {set(passed) - set(declared)}"
        required = {name for name, has_default in declared.items() if not has_default}
        assert required <= set(passed), f"{path}: missing {required - set(passed)}"


def test_outputs_used_by_main_exist_in_their_modules() -> None:
    main = read(BICEP / "main.bicep")
    names = dict(re.findall(r"^module (\w+) '([^']+)'", main, flags=re.MULTILINE))
    for module, output in re.findall(r"\b(\w+)\.outputs\.(\w+)", main):
        text = read(BICEP / names[module])
        assert re.search(rf"^output {output} \w+ =", text, flags=re.MULTILINE), (module, output)


def test_function_app_sample_params_cover_the_module() -> None:
    declared = declared_params(read(MODULES / "functionapp.bicep"))
    assert set(declared) == set(SAMPLE_PARAMS)


def test_example_parameters_cover_every_required_main_parameter() -> None:
    declared = declared_params(read(BICEP / "main.bicep"))
    example = json.loads(read(BICEP / "main.parameters.example.json"))["parameters"]
    required = {name for name, has_default in declared.items() if not has_default}
    assert required <= set(example)
    assert set(example) <= set(declared)
