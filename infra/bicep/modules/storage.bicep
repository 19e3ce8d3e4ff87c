// One storage account for the Functions host (AzureWebJobsStorage: Durable Task queues,
// tables and leases), the deployment package and the migration's staging container.
// Shared keys are disabled: every client authenticates with Microsoft Entra ID.

@description('Azure region.')
param location string

@description('Storage account name (3-24 lowercase letters and digits).')
param storageName string

@description('Container the Flex Consumption plan deploys the app package from.')
param deploymentContainerName string

@description('Container holding extracted batches, journals and reports (the stage).')
param stagingContainerName string

param tags object = {}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource stagingContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: stagingContainerName
  properties: {
    publicAccess: 'None'
  }
}

output storageName string = storage.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
