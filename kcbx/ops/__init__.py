"""Operating KCBX from a shell: what it has loaded (`kcbx status`), machine-readable output
(`--json`), versions and progress on long steps."""
