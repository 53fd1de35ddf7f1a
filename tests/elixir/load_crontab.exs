# The README's way to use generated/oban_crontab.exs, run against stub Oban modules:
#
#     elixir tests/elixir/load_crontab.exs generated/oban_crontab.exs [more files...]
#
# For each file it defines a stub worker for every module the file names, then runs the
# README's snippets: the config that hands `crontab` and `timezone` to Oban.Plugins.Cron, and
# the boot step that enqueues the `startup` tasks. It prints one line of tagged JSON per file:
# %{"timezone" => tz, "cron" => [{expr, job params}], "startup" => [job params]}, where job
# params are what Oban.Job.new/2 makes of them (args, queue as a string, worker as a string...).
Code.require_file("support.exs", __DIR__)

defmodule CronspecTest.LoadCrontab do
  def run(path) do
    CronspecTest.Stubs.define_workers(path)
    Oban.reset()

    # --- README: config/config.exs ---
    {%{timezone: tz, crontab: crontab}, _} = Code.eval_file(path)
    config = [plugins: [{Oban.Plugins.Cron, crontab: crontab, timezone: tz}]]

    # --- README: at boot, e.g. in Application.start/2 ---
    {%{startup: startup}, _} = Code.eval_file(path)
    for {worker, args, opts} <- startup, do: worker.new(args, opts) |> Oban.insert!()

    started = Oban.inserted()
    Oban.reset()
    [{Oban.Plugins.Cron, cron_opts}] = Keyword.fetch!(config, :plugins)

    %{
      "timezone" => Keyword.fetch!(cron_opts, :timezone),
      "startup" => started,
      "cron" => Oban.Plugins.Cron.jobs(cron_opts)
    }
  end
end

unless Application.get_env(:cronspec_test, :library, false) do
  for path <- System.argv() do
    IO.puts(CronspecTest.Term.encode(CronspecTest.LoadCrontab.run(path)))
  end
end
