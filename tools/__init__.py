"""Developer tools: keep config.json and the README in step with the settings; build the cloud workspace."""
