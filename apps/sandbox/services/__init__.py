"""The sandbox's behaviour, one module per area; views and commands are thin wrappers."""
