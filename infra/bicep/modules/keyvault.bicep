// Key Vault (RBAC authorization) holding the Salesforce connected app's secret. The function
// app reads it through a Key Vault reference in its app settings; nothing else sees it.

@description('Azure region.')
param location string

@description('Key Vault name (3-24 characters).')
param vaultName string

@description('Salesforce connected app consumer secret. Empty: set it later with az keyvault secret set.')
@secure()
param salesforceClientSecret string = ''

@description('Name of the secret the app settings reference.')
param salesforceSecretName string

param tags object = {}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource salesforceSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(salesforceClientSecret)) {
  parent: vault
  name: salesforceSecretName
  properties: {
    value: salesforceClientSecret
    contentType: 'Salesforce connected app consumer secret'
  }
}

output vaultName string = vault.name
