# One node of an app deploy, as its own Elixir VM with its own Repo pool and its own Oban named
# `Oban` (tests/test_oban.py starts several at once against one database):
#
#   ERL_LIBS=OBAN_STACK/lib elixir tests/elixir/node.exs REQUEST_JSON
#
# REQUEST_JSON: {"socket_dir", "port", "user", "database", "root", "config", "boot", "deploy",
# "node", "timeout_ms"}. In ROOT it starts Oban with the README's config snippet (file CONFIG)
# and a queue for every queue the crontab names, prints `ready`, waits for a line on stdin (the
# test's starting signal, sent to every node at once), then runs the README's boot snippet
# (file BOOT) with DEPLOY_ID = DEPLOY. Real workers perform the jobs: each perform records
# (task, deploy, node, job id) in the table cronspec_performs. It waits until every startup
# job of the deploy is completed (whichever node inserted it), prints one line of tagged JSON,
# {"inserted": [{"task", "id", "conflict"}], "inserted_at_us"}, and stops.
Code.require_file("term.exs", __DIR__)

defmodule CronspecNode.Repo do
  use Ecto.Repo, otp_app: :cronspec_node, adapter: Ecto.Adapters.Postgres
end

defmodule CronspecNode do
  alias CronspecNode.Repo

  def main([json]) do
    request = Jason.decode!(json)

    for app <- [:logger, :postgrex, :ecto_sql, :oban, :tz] do
      {:ok, _} = Application.ensure_all_started(app)
    end

    Logger.configure(level: :warning)
    Logger.configure_backend(:console, device: :standard_error)
    Calendar.put_time_zone_database(Tz.TimeZoneDatabase)

    Application.put_env(:cronspec_node, Repo,
      socket_dir: request["socket_dir"],
      port: request["port"],
      username: request["user"],
      database: request["database"],
      pool_size: 5,
      log: false
    )

    {:ok, _} = Repo.start_link()
    :telemetry.attach("node-inserted", [:oban, :engine, :insert_job, :stop], &record/4, self())

    File.cd!(request["root"], fn -> run(request) end)
  end

  def record(_event, _measurements, %{job: job}, pid), do: send(pid, {:inserted, job})

  defp run(request) do
    {term, _} = Code.eval_file("generated/oban_crontab.exs")
    define_workers(term, request["node"])
    config = Config.Reader.read!(request["config"])
    oban = Enum.find_value(config, [], fn {_app, entries} -> Keyword.get(entries, Oban) end)
    queues = for q <- queue_names(term), do: {String.to_atom(q), 5}
    opts = [name: Oban, repo: Repo, queues: queues, stage_interval: 10]
    {:ok, _} = Oban.start_link(Keyword.merge(opts, oban) |> Keyword.put(:name, Oban))

    IO.puts("ready")
    _go = IO.read(:stdio, :line)
    started = System.os_time(:microsecond)
    System.put_env("DEPLOY_ID", request["deploy"])
    Code.eval_file(request["boot"])
    inserted = collect([])
    ids = for %{id: id} <- inserted, id != nil, do: id
    :ok = wait_completed(request["deploy"], ids, length(term.startup), request["timeout_ms"])

    IO.puts(
      CronspecTest.Term.encode(%{
        "inserted" =>
          for job <- inserted do
            %{"task" => job.meta["cronspec_task"], "id" => job.id, "conflict" => job.conflict?}
          end,
        "inserted_at_us" => started
      })
    )

    Supervisor.stop(Oban.whereis(Oban), :normal)
  end

  defp collect(acc) do
    receive do
      {:inserted, job} -> collect([job | acc])
    after
      0 -> Enum.reverse(acc)
    end
  end

  # until every job this node inserted, and at least `count` of the deploy, are completed and
  # none of the deploy is left to run
  defp wait_completed(deploy, ids, count, timeout) do
    deadline = System.monotonic_time(:millisecond) + timeout
    wait_loop(deploy, ids, count, deadline)
  end

  defp wait_loop(deploy, ids, count, deadline) do
    %{rows: [[done, open, mine]]} =
      Repo.query!(
        "SELECT count(*) FILTER (WHERE state = 'completed'), " <>
          "count(*) FILTER (WHERE state <> 'completed'), " <>
          "count(*) FILTER (WHERE state = 'completed' AND id = ANY($2)) " <>
          "FROM oban_jobs WHERE meta->>'cronspec_deploy' = $1",
        [deploy, ids]
      )

    cond do
      done >= count and open == 0 and mine == length(ids) ->
        :ok

      System.monotonic_time(:millisecond) > deadline ->
        raise "#{done} of #{count} startup jobs of #{deploy} completed in time (#{open} open)"

      true ->
        Process.sleep(20)
        wait_loop(deploy, ids, count, deadline)
    end
  end

  defp queue_names(%{crontab: crontab, startup: startup}) do
    named =
      for entry <- crontab ++ startup,
          opts = elem(entry, tuple_size(entry) - 1),
          is_list(opts),
          queue = opts[:queue],
          queue != nil,
          do: to_string(queue)

    Enum.uniq(named ++ ["default"])
  end

  defp define_workers(%{crontab: crontab, startup: startup}, node) do
    workers =
      for entry <- crontab ++ startup, uniq: true do
        case entry do
          {expr, worker} when is_binary(expr) -> worker
          {expr, worker, _} when is_binary(expr) -> worker
          {worker, _args, _opts} -> worker
        end
      end

    for worker <- workers do
      body =
        quote do
          use Oban.Worker

          @impl Oban.Worker
          def perform(%Oban.Job{id: id, meta: meta}) do
            CronspecNode.Repo.query!(
              "INSERT INTO cronspec_performs VALUES ($1, $2, $3, $4)",
              [meta["cronspec_task"], meta["cronspec_deploy"], unquote(node), id]
            )

            :ok
          end
        end

      Module.create(worker, body, Macro.Env.location(__ENV__))
    end
  end
end

CronspecNode.main(System.argv())
