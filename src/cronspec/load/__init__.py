"""Reading a project: finding its specs and cronspec.toml, and turning their bytes into data
with positions (`project`, `source`, `config`). Nothing here judges a task; `validate` does."""
