# Oban 2.23.1's cron parser on every line of a file (one Elixir start for a whole list):
#
#   elixir -pa PARSER_EBIN tests/elixir/parse_expressions.exs FILE
#
# PARSER_EBIN holds Oban.Cron.Expression compiled alone from the vendored expression.ex
# (tests/support/vendor.py). One line of tagged JSON per expression: {"ok": true, "sets": the
# five fields' values, sorted} ({"ok": true, "reboot": true} for @reboot), or
# {"ok": false, "error": the parser's message}.
Code.require_file("term.exs", __DIR__)

unless Code.ensure_loaded?(Oban.Cron.Expression) and
         function_exported?(Oban.Cron.Expression, :next_at, 2) do
  IO.puts(:stderr, "Oban 2.23's Oban.Cron.Expression is not on the code path (-pa PARSER_EBIN)")
  System.halt(3)
end

[file] = System.argv()

for expr <- file |> File.read!() |> String.split("\n") |> Enum.drop(-1) do
  answer =
    case Oban.Cron.Expression.parse(expr) do
      {:ok, %{reboot?: true}} -> %{"ok" => true, "reboot" => true}
      {:ok, cron} -> %{"ok" => true, "sets" => CronspecTest.Term.cron_sets(cron)}
      {:error, error} -> %{"ok" => false, "error" => Exception.message(error)}
    end

  IO.puts(CronspecTest.Term.encode(answer))
end
