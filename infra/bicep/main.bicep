// Azure infrastructure for the Leadfwd -> Dynamics 365 migration app (docs/deploy.md).
//
//   az deployment group create -g <rg> -f infra/bicep/main.bicep \
//     -p @infra/bicep/main.parameters.json -p salesforceClientSecret=<from your vault or prompt>
//
// Creates: Log Analytics + Application Insights, a storage account without shared keys
// (host storage, deployment package, staging container), a Key Vault (RBAC) with the
// Salesforce secret, a Flex Consumption plan with the Python function app and its
// system-assigned identity, and that identity's role assignments. The identity's principal
// id is an output: Dataverse needs an application user for it (outside Azure Resource Manager).

targetScope = 'resourceGroup'

@description('Short name for the deployment; resource names derive from it.')
@minLength(3)
@maxLength(16)
param name string = 'leadfwd-mig'

@description('Azure region.')
param location string = resourceGroup().location

@description('Dataverse environment URL, e.g. https://contoso.crm.dynamics.com')
param dataverseUrl string

@description('Salesforce My Domain URL, e.g. https://acme.my.salesforce.com')
param salesforceInstanceUrl string

@description('Salesforce connected app consumer key (client credentials flow).')
param salesforceClientId string

@description('Salesforce connected app consumer secret, stored in Key Vault. Leave empty to set it later.')
@secure()
param salesforceClientSecret string = ''

@description('Dynamics user (email) that owns records whose Salesforce owner is inactive or unmatched.')
param fallbackOwnerEmail string

@description('NCRONTAB schedule of the delta sync (UTC, six fields). Default: 02:00 every day.')
param deltaSchedule string = '0 0 2 * * *'

@description('Start delta syncs on the schedule. Keep false until the initial migration is reconciled.')
param deltaSyncEnabled bool = false

@description('Python version of the function app.')
@allowed([
  '3.11'
  '3.12'
])
param pythonVersion string = '3.11'

@description('Most instances the app scales out to. Dataverse service protection caps useful parallelism per application user.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Python worker threads per instance. host.json sets the Durable activity and orchestrator limits to the same number: change both together.')
param pythonThreadCount int = 4

param tags object = {
  workload: 'leadfwd-to-dynamics365'
}

var suffix = uniqueString(resourceGroup().id, name)
var compact = toLower(replace(name, '-', ''))
var storageName = take('st${compact}${suffix}', 24)
var vaultName = take('kv-${compact}-${suffix}', 24)
var appName = '${name}-func-${suffix}'
var deploymentContainerName = 'app-package'
var stagingContainerName = 'staging'
var salesforceSecretName = 'salesforce-client-secret'

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: '${name}-logs-${suffix}'
    insightsName: '${name}-ai-${suffix}'
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    storageName: storageName
    deploymentContainerName: deploymentContainerName
    stagingContainerName: stagingContainerName
    tags: tags
  }
}

module vault 'modules/keyvault.bicep' = {
  name: 'vault'
  params: {
    location: location
    vaultName: vaultName
    salesforceClientSecret: salesforceClientSecret
    salesforceSecretName: salesforceSecretName
    tags: tags
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    location: location
    appName: appName
    planName: '${name}-plan-${suffix}'
    storageName: storage.outputs.storageName
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    stagingContainerName: stagingContainerName
    appInsightsConnectionString: monitoring.outputs.connectionString
    vaultName: vault.outputs.vaultName
    salesforceSecretName: salesforceSecretName
    dataverseUrl: dataverseUrl
    salesforceInstanceUrl: salesforceInstanceUrl
    salesforceClientId: salesforceClientId
    fallbackOwnerEmail: fallbackOwnerEmail
    deltaSchedule: deltaSchedule
    deltaSyncEnabled: deltaSyncEnabled
    pythonVersion: pythonVersion
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    pythonThreadCount: pythonThreadCount
    tags: tags
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: functionApp.outputs.principalId
    storageName: storage.outputs.storageName
    vaultName: vault.outputs.vaultName
    insightsName: monitoring.outputs.insightsName
  }
}

@description('Object (principal) id of the app identity: create the Dataverse application user for it.')
output principalId string = functionApp.outputs.principalId
output functionAppName string = functionApp.outputs.appName
output apiBaseUrl string = 'https://${functionApp.outputs.defaultHostName}/api'
output storageAccountName string = storage.outputs.storageName
output stagingContainerName string = stagingContainerName
output keyVaultName string = vault.outputs.vaultName
output appInsightsName string = monitoring.outputs.insightsName
