"""Test support: the throwaway servers, the vendored executors and the Elixir harness."""
