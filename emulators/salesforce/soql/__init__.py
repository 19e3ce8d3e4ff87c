"""The SOQL subset extraction uses: ``parser`` (text → AST), ``compiler`` (AST → SQLite over the
org store, with Salesforce's errors), ``records`` (rows → API record shapes and CSV)."""
