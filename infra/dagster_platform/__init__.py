"""Platform extensions of Dagster shared by every image of the stack (not user code)."""
