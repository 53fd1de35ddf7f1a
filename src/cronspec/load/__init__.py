"""Reading a project: finding its specs and cronspec.toml, and turning their bytes into data
with positions (`project`, `source` with `syntax` for YAML's errors, `config`). Nothing here
judges a task; `validate` does."""
