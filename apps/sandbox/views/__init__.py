"""HTTP faces of the sandbox: thin views over apps.sandbox.services."""
