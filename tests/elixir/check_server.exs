# A long-running checker for the test suite, so that one `elixir` start serves many files.
# Reads requests from stdin, one per line, and answers each with one line of tagged JSON:
#
#   parse PATH  -> {"ok": true}: Code.string_to_quoted!/2 accepts the file
#   eval PATH   -> {"ok": true, "term": <the evaluated term>, "load": <load_crontab.exs's
#                  result>, "warnings": <compiler warnings>}: stub workers defined first
#
# or {"ok": false, "error": message} when the file does not parse, evaluate or load.
Code.require_file("support.exs", __DIR__)
Application.put_env(:cronspec_test, :library, true)
Code.require_file("load_crontab.exs", __DIR__)
{:ok, _} = Application.ensure_all_started(:ex_unit)

defmodule CronspecTest.Server do
  alias CronspecTest.Term

  def handle("parse " <> path) do
    Code.string_to_quoted!(File.read!(path), file: path)
    %{"ok" => true}
  end

  def handle("eval " <> path) do
    Code.string_to_quoted!(File.read!(path), file: path)
    CronspecTest.Stubs.define_workers(path)

    {{term, _binding}, warnings} =
      ExUnit.CaptureIO.with_io(:stderr, fn -> Code.eval_file(path) end)

    %{
      "ok" => true,
      "term" => term,
      "warnings" => warnings,
      "load" => CronspecTest.LoadCrontab.run(path)
    }
  end

  def handle(other), do: raise(ArgumentError, "unknown request #{inspect(other)}")

  def answer(line) do
    handle(String.trim_trailing(line, "\n"))
  rescue
    error -> %{"ok" => false, "error" => Exception.format(:error, error, __STACKTRACE__)}
  end

  def loop do
    case IO.read(:stdio, :line) do
      :eof ->
        :ok

      {:error, _} ->
        :ok

      line ->
        IO.write(Term.encode(answer(line)) <> "\n")
        loop()
    end
  end
end

CronspecTest.Server.loop()
