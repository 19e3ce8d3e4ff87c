// The Flex Consumption plan and the Python function app with a system-assigned identity.
// Every setting the code reads in Azure is set here (tests/infra/test_bicep.py checks the
// list against shared/settings.py, shared/telemetry.py and the app's bindings).

@description('Azure region.')
param location string

@description('Function app name (also its host name).')
param appName string

@description('Flex Consumption plan name.')
param planName string

@description('Storage account used by the host (identity-based AzureWebJobsStorage).')
param storageName string

@description('Blob endpoint of that storage account, ending with /.')
param blobEndpoint string

@description('Container the plan deploys the app package from.')
param deploymentContainerName string

@description('Container that holds the stage.')
param stagingContainerName string

@description('Application Insights connection string (not a secret: it holds no key).')
param appInsightsConnectionString string

@description('Key Vault holding the Salesforce secret.')
param vaultName string

@description('Name of the Salesforce secret in the vault.')
param salesforceSecretName string

@description('Dataverse environment URL, e.g. https://contoso.crm.dynamics.com')
param dataverseUrl string

@description('Salesforce My Domain URL, e.g. https://acme.my.salesforce.com')
param salesforceInstanceUrl string

@description('Salesforce connected app consumer key (client credentials flow).')
param salesforceClientId string

@description('Dynamics user that owns records whose Salesforce owner is inactive or unmatched.')
param fallbackOwnerEmail string

@description('NCRONTAB schedule of the delta sync timer (six fields, UTC).')
param deltaSchedule string

@description('Run the delta sync on its schedule. Off until the initial migration is done.')
param deltaSyncEnabled bool

@description('Python runtime version.')
param pythonVersion string

@description('Upper bound of instances the plan scales out to.')
param maximumInstanceCount int

@description('Memory per instance: 2048 or 4096.')
param instanceMemoryMB int

@description('Worker threads per instance; host.json durable concurrency limits match it.')
param pythonThreadCount int

param tags object = {}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageName
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'Authorization=AAD'
        }
        {
          name: 'PYTHON_THREADPOOL_THREAD_COUNT'
          value: string(pythonThreadCount)
        }
        {
          name: 'MIGRATION__STAGE__BACKEND'
          value: 'blob'
        }
        {
          name: 'MIGRATION__STAGE__ACCOUNT_URL'
          value: blobEndpoint
        }
        {
          name: 'MIGRATION__STAGE__CONTAINER'
          value: stagingContainerName
        }
        {
          name: 'MIGRATION__DATAVERSE__URL'
          value: dataverseUrl
        }
        {
          name: 'MIGRATION__DATAVERSE__AUTH'
          value: 'managed_identity'
        }
        {
          name: 'MIGRATION__DATAVERSE__FALLBACK_OWNER_EMAIL'
          value: fallbackOwnerEmail
        }
        {
          name: 'MIGRATION__SALESFORCE__INSTANCE_URL'
          value: salesforceInstanceUrl
        }
        {
          name: 'MIGRATION__SALESFORCE__AUTH'
          value: 'client_credentials'
        }
        {
          name: 'MIGRATION__SALESFORCE__CLIENT_ID'
          value: salesforceClientId
        }
        {
          name: 'MIGRATION__SALESFORCE__CLIENT_SECRET'
          value: '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${salesforceSecretName})'
        }
        {
          name: 'MIGRATION__DELTA__SCHEDULE'
          value: deltaSchedule
        }
        {
          name: 'AzureWebJobs.delta_sync_timer.Disabled'
          value: deltaSyncEnabled ? 'false' : 'true'
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

// No publishing user names and passwords: deployments authenticate with Entra ID.
resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

output appName string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
