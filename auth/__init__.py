"""Identity and access: passwords, tokens, scopes, the Viewer and the one tenancy check."""
