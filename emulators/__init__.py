"""Local Salesforce org and Dataverse environment speaking the real APIs."""
